using System;
using System.Collections.Generic;
using System.Globalization;

namespace Hashall.Core
{
    /// <summary>
    /// Test hook: HASHALL_FAULT=point:N kills the process (FailFast) the N-th time the code passes that
    /// point, so tests can prove a crash there loses nothing. Points: link-before-rename (a temporary
    /// link exists, the rename over the duplicate has not happened), link-after-rename (the duplicate
    /// is a link now, its outcome not yet in the batch), rehome-copy (a file copied),
    /// rehome-link (a hard link of a torrent's own layout made), rehome-relocate (qBittorrent told the new location, not yet confirmed), rehome-remove (a source
    /// file removed), seed-link (a hard link of Add-HashallTorrent's layout made, not yet journalled as made),
    /// seed-copy (a copy written, not yet verified), seed-add (qBittorrent told to add the torrent, not yet journalled as added), clone-after-chunk and
    /// clone-after-share (a duplicate's blocks partly or wholly shared, not yet recorded), undo-after-copy,
    /// undo-before-rename and undo-after-rename (an undo's private copy written, or renamed over the path). "point:N:throw"
    /// throws an unexpected exception there instead (once), for tests of what a bug leaves behind. Unset in normal use.
    /// </summary>
    internal static class FaultInjection
    {
        private static readonly string? Setting = Environment.GetEnvironmentVariable("HASHALL_FAULT");
        private static readonly Dictionary<string, int> Counts = new Dictionary<string, int>();

        public static void At(string point)
        {
            if (Setting == null || !Setting.StartsWith(point + ":", StringComparison.Ordinal))
                return;
            // "point:N" kills the process (as a crash would). "point:N:hold" stops this thread there for ever after
            // saying so on stderr, so that a test can act while the process holds what it holds at that point (a
            // lease), then kill it. "point:N:throw" throws an error no caller expects (a bug's), once, and goes on.
            string[] setting = Setting.Substring(point.Length + 1).Split(':');
            string mode = setting.Length > 1 ? setting[1] : "kill";
            lock (Counts)
            {
                Counts[point] = Counts.TryGetValue(point, out int n) ? n + 1 : 1;
                if (Counts[point] != int.Parse(setting[0], CultureInfo.InvariantCulture))
                    return;
                if (mode == "throw")
                    throw new InvalidOperationException($"HASHALL_FAULT: thrown at {point} #{Counts[point]}");
                if (mode != "hold")
                    Environment.FailFast($"HASHALL_FAULT: killed at {point} #{Counts[point]}");
                Console.Error.WriteLine($"HASHALL_FAULT: holding at {point} #{Counts[point]}");
                Console.Error.Flush();
            }
            System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);
        }
    }
}
