using System.IO;

namespace Hashall.Core.Platform
{
    /// <summary>Opens a file for reading the cheapest way the platform allows (open(2) on Linux, FileStream elsewhere).</summary>
    public static class FileReader
    {
        /// <summary>Throws FileNotFoundException, UnauthorizedAccessException or IOException, as FileStream does.</summary>
        public static Stream OpenRead(string path, bool sequential)
        {
            if (!FileSystemApi.IsWindows && !FileSystemApi.IsMacOS)
                return LinuxFileStream.Open(path, sequential);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1,
                sequential ? FileOptions.SequentialScan : FileOptions.None);
        }
    }
}
