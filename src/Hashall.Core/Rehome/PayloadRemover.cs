using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Hashall.Core.Platform;

namespace Hashall.Core.Rehome
{
    /// <summary>
    /// Removes one copy of a payload: only its own files (never other files that share its folder),
    /// then the folders they leave empty, up to and including the payload's top folder. Idempotent:
    /// a file already gone is fine, so a rerun after a kill finishes the job.
    /// </summary>
    public static class PayloadRemover
    {
        /// <param name="top">The payload's content path (its root folder, or the single file).</param>
        /// <param name="files">Full paths of the payload's files under <paramref name="top"/>, with the size each must have.</param>
        /// <returns>How many files were removed now.</returns>
        public static int Remove(string top, IEnumerable<(string Path, long Size)> files)
        {
            int removed = 0;
            var directories = new SortedSet<string>(StringComparer.Ordinal);
            var realDirectories = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (file, size) in files)
            {
                if (!PathText.IsUnder(file, top))
                    throw new HashallException("RehomeRemoveRefused", HashallErrorKind.InvalidArgument, $"'{file}' is not under the payload's '{top}'; not removed.", file);
                // Text says under; the disk must too: no folder on the way may be a symbolic link to elsewhere.
                for (string? d = Path.GetDirectoryName(file); d != null && PathText.IsUnder(d, top) && !realDirectories.Contains(d); d = Path.GetDirectoryName(d))
                {
                    if (FileSystemApi.TryLstat(d, out var dir) == 0 && dir.Kind != FileKind.Directory)
                        throw new HashallException("RehomeRemoveRefused", HashallErrorKind.InvalidArgument, $"'{d}' is not a folder (a symbolic link?); nothing under it was removed.", d);
                    realDirectories.Add(d);
                }
                if (FileSystemApi.TryLstat(file, out var st) == 0 && (st.Kind != FileKind.Regular || st.Size != size))
                    throw new HashallException("RehomeRemoveRefused", HashallErrorKind.InvalidData,
                        $"'{file}' is not the payload's file any more ({st.Kind}, {st.Size} bytes; {size} expected); not removed.", file);
                int error = HardLinks.Remove(file);
                if (error != 0 && error != HardLinks.ENOENT)
                    throw new HashallException("RehomeRemoveFailed", HashallErrorKind.WriteError, $"Cannot remove '{file}': {HardLinks.Describe(error)}.", file);
                if (error == 0)
                {
                    removed++;
                    FaultInjection.At("rehome-remove");
                }
                for (string? d = Path.GetDirectoryName(file); d != null && PathText.IsUnder(d, top); d = Path.GetDirectoryName(d))
                    directories.Add(d);
            }
            // Deepest first; a folder that still holds anything (an extra the user put there) stays.
            foreach (string directory in directories.Reverse())
            {
                try
                {
                    if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
                        Directory.Delete(directory);
                }
                catch (IOException)
                {
                    // not empty after all, or busy: it stays
                }
            }
            string? parent = Path.GetDirectoryName(top);
            if (parent != null && Directory.Exists(parent))
                FileMetadata.SyncDirectory(parent);
            return removed;
        }
    }
}
