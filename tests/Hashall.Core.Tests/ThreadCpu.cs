using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Hashall.Core.Tests;

/// <summary>
/// CPU time of the calling thread (clock_gettime CLOCK_THREAD_CPUTIME_ID): what a single-threaded piece of
/// work cost, whatever else the machine runs. Wall-clock bounds fail on a loaded CI machine (two test
/// processes on two cores, other test classes in parallel), CPU time bounds only on a slow algorithm.
/// Elsewhere than Linux and macOS: wall-clock time.
/// </summary>
internal static class ThreadCpu
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static extern int ClockGetTime(int clock, out Timespec time);

    private static readonly int Clock = OperatingSystem.IsLinux() ? 3 : OperatingSystem.IsMacOS() ? 16 : -1;

    public static TimeSpan Now()
    {
        if (Clock < 0 || ClockGetTime(Clock, out var t) != 0)
            return Stopwatch.GetElapsedTime(0);
        return TimeSpan.FromTicks(t.Seconds * TimeSpan.TicksPerSecond + t.Nanoseconds / 100);
    }

    /// <summary>The calling thread's CPU time spent in <paramref name="work"/>.</summary>
    public static TimeSpan Of(Action work)
    {
        var start = Now();
        work();
        return Now() - start;
    }
}
