using System.Diagnostics;

namespace Hashall.Tests.Shared;

/// <summary>A scratch directory on a real filesystem, removed afterwards (tmpfs mounts in it unmounted first).</summary>
public sealed class TempTree : IDisposable
{
    private readonly List<string> _mounts = new();
    private readonly List<string> _images = new();

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
    /// Makes a filesystem image (a sparse file of <paramref name="size"/>, e.g. "512M") of type xfs (with
    /// reflink), btrfs or ext4, and mounts it at Root/relative with `mount -o loop` (which takes a free
    /// loop device, never a fixed one); needs root. Unmounted, and its loop device detached, on dispose.
    /// </summary>
    public string MountImage(string relative, string type, string size)
    {
        string dir = Path(relative), image = Path(relative + ".img");
        Directory.CreateDirectory(dir);
        Run("truncate", "-s", size, image);
        _images.Add(image);
        switch (type)
        {
            case "xfs": Run("mkfs.xfs", "-q", "-m", "reflink=1", image); break;
            case "btrfs": Run("mkfs.btrfs", "-q", image); break;
            case "ext4": Run("mkfs.ext4", "-q", "-F", image); break;
            default: throw new ArgumentException($"No mkfs for '{type}'.", nameof(type));
        }
        Run("mount", "-o", "loop", image, dir);
        _mounts.Add(dir);
        return dir;
    }

    /// <summary>Free bytes of the filesystem holding <paramref name="path"/> (statvfs f_bfree × f_frsize, after syncfs: btrfs frees blocks at its commit).</summary>
    public static long FreeBytes(string path)
    {
        Run("sync", "-f", path);
        var fields = Run("stat", "-f", "-c", "%f %S", path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fields[0]) * long.Parse(fields[1]);
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
            try { Run("umount", m); }
            catch (InvalidOperationException)
            {
                try { Run("umount", "-l", m); } catch (InvalidOperationException) { }
            }
        }
        foreach (var image in _images)
        {
            // mount -o loop sets autoclear; a loop device still bound to the image (a lazy unmount) is detached.
            try
            {
                foreach (var line in Run("losetup", "-j", image).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    Run("losetup", "-d", line.Split(':')[0]);
            }
            catch (InvalidOperationException) { }
        }
        try { Directory.Delete(Root, recursive: true); }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException)
        {
            try { Run("rm", "-rf", Root); } catch (InvalidOperationException) { } // deep or odd trees
        }
    }
}
