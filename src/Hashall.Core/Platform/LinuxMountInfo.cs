using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Hashall.Core.Platform
{
    /// <summary>Parses /proc/self/mountinfo (proc(5)): the only Linux source that gives each mount's root and device number.</summary>
    internal static class LinuxMountInfo
    {
        public static IReadOnlyList<MountEntry> Read(string file = "/proc/self/mountinfo") => Parse(File.ReadAllLines(file));

        public static IReadOnlyList<MountEntry> Parse(IEnumerable<string> lines)
        {
            var result = new List<MountEntry>();
            foreach (var line in lines)
            {
                // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
                var parts = line.Split(' ');
                int sep = Array.IndexOf(parts, "-");
                if (parts.Length < 10 || sep < 6 || sep + 2 >= parts.Length)
                    continue;
                var majMin = parts[2].Split(':');
                if (majMin.Length != 2 || !uint.TryParse(majMin[0], out var major) || !uint.TryParse(majMin[1], out var minor))
                    continue;
                result.Add(new MountEntry(
                    mountPoint: Unescape(parts[4]),
                    fileSystemType: Unescape(parts[sep + 1]),
                    source: Unescape(parts[sep + 2]),
                    root: Unescape(parts[3]),
                    deviceNumber: LinuxStat.MakeDev(major, minor)));
            }
            return result;
        }

        /// <summary>The kernel writes space, tab, newline and backslash in names as \ooo octal escapes.</summary>
        internal static string Unescape(string field)
        {
            if (field.IndexOf('\\') < 0)
                return field;
            var bytes = new List<byte>(field.Length);
            var raw = Encoding.UTF8.GetBytes(field);
            for (int i = 0; i < raw.Length; i++)
            {
                if (raw[i] == (byte)'\\' && i + 3 < raw.Length && IsOctal(raw[i + 1]) && IsOctal(raw[i + 2]) && IsOctal(raw[i + 3]))
                {
                    bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                    i += 3;
                }
                else
                {
                    bytes.Add(raw[i]);
                }
            }
            return Encoding.UTF8.GetString(bytes.ToArray());
        }

        private static bool IsOctal(byte b) => b >= (byte)'0' && b <= (byte)'7';
    }
}
