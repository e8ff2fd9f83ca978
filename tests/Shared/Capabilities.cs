using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Hashall.Tests.Shared;

/// <summary>What a test needs from the machine, beyond .NET: each is probed, never inferred from the OS name.</summary>
[Flags]
public enum Needs
{
    None = 0,
    /// <summary>The effective user is root (geteuid() == 0): mode bits do not bind, chown works.</summary>
    Root = 1,
    /// <summary>A tmpfs can be mounted (and unmounted) here: a second device, a read-only filesystem.</summary>
    Tmpfs = 2,
    /// <summary>qbittorrent-nox and mktorrent are on PATH (the payload and rehome tests start a real qBittorrent).</summary>
    QBittorrent = 4,
    /// <summary>Root with mkfs.xfs, mkfs.btrfs, mkfs.ext4 and losetup: loop-mounted filesystem images (block clones).</summary>
    Images = 8,
}

/// <summary>
/// Probes of what this machine can do for the tests. Tests that need something skip (reported as
/// skipped, with the reason) where it is missing, so that the suite runs on every runner of the CI
/// matrix; .ci/run provides all of them on Linux.
/// </summary>
public static class Capabilities
{
    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    private static readonly Lazy<bool> _root = new(() =>
    {
        try { return GetEuid() == 0; }
        catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException) { return false; } // no libc: not a Unix
    });

    private static readonly Lazy<bool> _tmpfs = new(ProbeTmpfs);
    private static readonly Lazy<bool> _qbittorrent = new(() => OnPath("qbittorrent-nox") && OnPath("mktorrent"));

    public static bool IsRoot => _root.Value;
    public static bool CanMountTmpfs => _tmpfs.Value;
    public static bool HasQBittorrent => _qbittorrent.Value;
    public static bool CanMountImages => IsRoot && new[] { "mkfs.xfs", "mkfs.btrfs", "mkfs.ext4", "losetup", "mount" }.All(OnPath);

    public static bool Has(Needs needs) =>
        (!needs.HasFlag(Needs.Root) || IsRoot) && (!needs.HasFlag(Needs.Tmpfs) || CanMountTmpfs) && (!needs.HasFlag(Needs.QBittorrent) || HasQBittorrent)
        && (!needs.HasFlag(Needs.Images) || CanMountImages);

    /// <summary>Why a test that needs these is skipped here; null when the machine has them all.</summary>
    public static string? Missing(Needs needs)
    {
        var missing = new List<string>();
        if (needs.HasFlag(Needs.Root) && !IsRoot) missing.Add("root");
        if (needs.HasFlag(Needs.Tmpfs) && !CanMountTmpfs) missing.Add("mounting a tmpfs (root, mount(8), a kernel with tmpfs)");
        if (needs.HasFlag(Needs.QBittorrent) && !HasQBittorrent) missing.Add("qbittorrent-nox and mktorrent on PATH");
        if (needs.HasFlag(Needs.Images) && !CanMountImages) missing.Add("root with mkfs.xfs, mkfs.btrfs, mkfs.ext4 and losetup (xfsprogs, btrfs-progs, e2fsprogs)");
        return missing.Count == 0 ? null : "Needs " + string.Join(" and ", missing) + "; .ci/run provides it.";
    }

    /// <summary>Whether an executable of this name is on PATH (with the PATHEXT extensions where there are any).</summary>
    public static bool OnPath(string name)
    {
        var extensions = (Environment.GetEnvironmentVariable("PATHEXT") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Prepend("");
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => extensions.Any(ext => File.Exists(Path.Combine(dir, name + ext))));
    }

    private static bool ProbeTmpfs()
    {
        if (!IsRoot || !OnPath("mount") || !OnPath("umount"))
            return false;
        string dir = Directory.CreateTempSubdirectory("hashall-mount-probe-").FullName;
        try
        {
            if (Exec("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir) != 0)
                return false;
            return Exec("umount", dir) == 0;
        }
        finally
        {
            try { Directory.Delete(dir); } catch (IOException) { }
        }
    }

    private static int Exec(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception) { return -1; }
    }
}

/// <summary>A [Fact] that is skipped, with the reason, on a machine without what it needs.</summary>
public sealed class RequiresFactAttribute : FactAttribute
{
    public RequiresFactAttribute(Needs needs)
    {
        if (Capabilities.Missing(needs) is string reason)
            Skip = reason;
    }
}

/// <summary>A [Theory] that is skipped, with the reason, on a machine without what it needs.</summary>
public sealed class RequiresTheoryAttribute : TheoryAttribute
{
    public RequiresTheoryAttribute(Needs needs)
    {
        if (Capabilities.Missing(needs) is string reason)
            Skip = reason;
    }
}
