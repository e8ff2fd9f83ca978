namespace Hashall.Core.Platform
{
    public enum FileKind
    {
        Regular,
        Directory,
        SymbolicLink,
        Other,
    }
}
