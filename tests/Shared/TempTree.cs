using System.Diagnostics;

namespace Hashall.Tests.Shared;

/// <summary>A scratch directory on a real filesystem, removed afterwards (tmpfs mounts in it unmounted first).</summary>
public sealed class TempTree : IDisposable
{
    private readonly List<string> _mounts = new();

    public TempTree(string? under = null)
    {
        Root = System.IO.Path.Combine(under ?? System.IO.Path.GetTempPath(), "hashall-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public string WriteFile(string relative, string content)
    {
        string full = Path(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public static bool IsRoot => Capabilities.IsRoot;

    /// <summary>Mounts a new tmpfs (a second device) at Root/relative; needs root.</summary>
    public string MountTmpfs(string relative, string options = "size=16m")
    {
        string dir = Path(relative);
        Directory.CreateDirectory(dir);
        Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir);
        _mounts.Add(dir);
        return dir;
    }

    /// <summary>Bind-mounts <paramref name="source"/> at Root/relative (mount --bind); needs root; unmounted on dispose.</summary>
    public string BindMount(string source, string relative)
    {
        string dir = Path(relative);
        Directory.CreateDirectory(dir);
        Run("mount", "--bind", source, dir);
        _mounts.Add(dir);
        return dir;
    }

    /// <summary>
    /// Sets back the mtime of everything under <paramref name="root"/> written in the last minute by an
    /// hour (older times are kept): files a scan hashes right after they were written are racily clean
    /// and read again by the next scan, which tests of "nothing is read again" must not see.
    /// </summary>
    public static void Age(string root) =>
        Run("find", root, "-newermt", "1 minute ago", "-exec", "touch", "-h", "-d", "1 hour ago", "{}", "+");

    /// <summary>SHA-1 of a file by coreutils (an independent implementation).</summary>
    public static string Sha1Sum(string path) => Run("sh", "-c", "sha1sum < \"$1\"", "_", path).Split(' ')[0];

    public static string Sha256Sum(string path) => Run("sh", "-c", "sha256sum < \"$1\"", "_", path).Split(' ')[0];

    /// <summary>Inode of every regular file under a directory, by find(1).</summary>
    public static Dictionary<string, ulong> Inodes(string root) =>
        Run("find", root, "-type", "f", "-printf", "%i %p\\0").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2)).ToDictionary(p => p[1], p => ulong.Parse(p[0]));

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {error}");
        return output;
    }

    public void Dispose()
    {
        foreach (var m in Enumerable.Reverse(_mounts))
        {
            try { Run("umount", "-l", m); } catch (InvalidOperationException) { }
        }
        try { Directory.Delete(Root, recursive: true); }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException)
        {
            try { Run("rm", "-rf", Root); } catch (InvalidOperationException) { } // deep or odd trees
        }
    }
}
