using System.IO;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// What kind of file a path names once symlinks are followed (stat, not lstat): enough to tell a
    /// regular file from a directory, FIFO, device or socket without opening it (opening a FIFO blocks).
    /// </summary>
    public static class TargetKind
    {
        /// <summary>0 and the kind of the file <paramref name="path"/> leads to, or the platform's error code (ENOENT: nothing there, or a dangling link).</summary>
        public static int TryGet(string path, out FileKind kind)
        {
            kind = FileKind.Other;
            if (FileSystemApi.IsWindows)
            {
                // Windows has no FIFOs or device nodes in the file namespace a catalog path can name.
                if (Directory.Exists(path)) kind = FileKind.Directory;
                else if (File.Exists(path)) kind = FileKind.Regular;
                else return 2;
                return 0;
            }
            // The platform's lstat, then, for a link, lstat of what realpath(3) resolves it to.
            int error = FileSystemApi.TryLstat(path, out var status);
            if (error != 0)
                return error;
            if (status.Kind == FileKind.SymbolicLink)
            {
                string target;
                try
                {
                    target = UnixPaths.RealPath(path);
                }
                catch (HashallException)
                {
                    return HardLinks.ENOENT; // a link to nothing that can be reached
                }
                error = FileSystemApi.TryLstat(target, out status);
                if (error != 0)
                    return error;
            }
            kind = status.Kind;
            return 0;
        }
    }
}
