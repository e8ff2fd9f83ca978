using System;

namespace Hashall.Core.Linking
{
    /// <summary>
    /// Test hook: HASHALL_FAULT=link-before-rename:N kills the process (FailFast) when the N-th
    /// temporary link exists and the rename over the duplicate has not happened yet, so tests can
    /// prove a crash in that window loses nothing. Unset in normal use.
    /// </summary>
    internal static class FaultInjection
    {
        private static readonly string? Setting = Environment.GetEnvironmentVariable("HASHALL_FAULT");
        private static int _count;

        public static void At(string point)
        {
            if (Setting == null || !Setting.StartsWith(point + ":", StringComparison.Ordinal))
                return;
            if (++_count == int.Parse(Setting.Substring(point.Length + 1), System.Globalization.CultureInfo.InvariantCulture))
                Environment.FailFast($"HASHALL_FAULT: killed at {point} #{_count}");
        }
    }
}
