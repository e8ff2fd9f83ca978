namespace Hashall.Core.Devices
{
    /// <summary>A path resolved to its device and to its path inside that filesystem.</summary>
    public sealed class LocatedPath
    {
        public LocatedPath(string fullPath, DeviceDescriptor device, string relativePath)
        {
            FullPath = fullPath;
            Device = device;
            RelativePath = relativePath;
        }

        /// <summary>The canonical absolute path (symlinks in its directories resolved).</summary>
        public string FullPath { get; }
        public DeviceDescriptor Device { get; }
        /// <summary>Path relative to the filesystem's root, '/'-separated, no leading '/'; "" for the root itself.</summary>
        public string RelativePath { get; }
    }
}
