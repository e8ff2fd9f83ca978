using System.Runtime.InteropServices;

namespace Hashall.Tests.Shared;

/// <summary>
/// Runs code with the file permissions of another user, on this thread only (setfsuid(2)): root
/// ignores mode bits, so "unreadable" needs a non-root file identity. Threads started inside
/// inherit it. Root only; otherwise the code runs as the current user, whose mode bits already bite.
/// </summary>
public static class Privileges
{
    public const int Nobody = 65534;

    [DllImport("libc", SetLastError = true)]
    private static extern int setfsuid(int fsuid);

    [DllImport("libc", SetLastError = true)]
    private static extern int setfsgid(int fsgid);

    public static T AsUser<T>(int uid, Func<T> action)
    {
        if (!Capabilities.IsRoot)
            return action();
        setfsgid(uid);
        setfsuid(uid);
        try
        {
            return action();
        }
        finally
        {
            setfsuid(0);
            setfsgid(0);
        }
    }
}
