namespace Hashall.Core.Scanning
{
    /// <summary>
    /// How a scan reports as it goes. Every call comes on the thread that called
    /// <see cref="Scanner.Run"/>, so a cmdlet can write records from it directly.
    /// </summary>
    public interface IScanObserver
    {
        void Progress(ScanProgress progress);
        /// <summary>A per-file or per-directory problem; the scan goes on and the catalog keeps what it knew.</summary>
        void Error(HashallException error);
        void NestedMount(string path, bool crossed);
    }
}
