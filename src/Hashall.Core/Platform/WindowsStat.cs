using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// File identity on Windows: volume serial number and the 64-bit file index from
    /// GetFileInformationByHandle, opened without following reparse points.
    /// </summary>
    internal static class WindowsStat
    {
        private const uint FileReadAttributes = 0x80;
        private const uint FileShareAll = 0x7;
        private const uint OpenExisting = 3;
        private const uint FlagBackupSemantics = 0x02000000;
        private const uint FlagOpenReparsePoint = 0x00200000;
        private const long FileTimeEpochOffset = 116444736000000000L;

        [StructLayout(LayoutKind.Sequential)]
        private struct ByHandleFileInformation
        {
            public uint FileAttributes;
            public long CreationTime;
            public long LastAccessTime;
            public long LastWriteTime;
            public uint VolumeSerialNumber;
            public uint FileSizeHigh;
            public uint FileSizeLow;
            public uint NumberOfLinks;
            public uint FileIndexHigh;
            public uint FileIndexLow;
        }

        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern SafeFileHandle CreateFileW(string name, uint access, uint share, IntPtr security,
            uint disposition, uint flags, IntPtr template);

        [DllImport("kernel32.dll", SetLastError = true)]
        private static extern bool GetFileInformationByHandle(SafeFileHandle handle, out ByHandleFileInformation info);

        public static int TryLstat(string path, out FileStatus status)
        {
            status = default;
            using (var handle = CreateFileW(path, FileReadAttributes, FileShareAll, IntPtr.Zero, OpenExisting,
                       FlagBackupSemantics | FlagOpenReparsePoint, IntPtr.Zero))
            {
                if (handle.IsInvalid)
                    return Marshal.GetLastWin32Error();
                if (!GetFileInformationByHandle(handle, out var info))
                    return Marshal.GetLastWin32Error();
                FileKind kind = (info.FileAttributes & 0x400) != 0 ? FileKind.SymbolicLink
                    : (info.FileAttributes & 0x10) != 0 ? FileKind.Directory : FileKind.Regular;
                ulong index = ((ulong)info.FileIndexHigh << 32) | info.FileIndexLow;
                long size = (long)(((ulong)info.FileSizeHigh << 32) | info.FileSizeLow);
                status = new FileStatus(info.VolumeSerialNumber, index, size, info.NumberOfLinks,
                    (info.LastWriteTime - FileTimeEpochOffset) * 100L, kind);
                return 0;
            }
        }
    }
}
