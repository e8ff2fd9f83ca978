using Hashall.Core;
using Hashall.Core.Platform;

namespace Hashall.Core.Tests;

/// <summary>lstat through statx against coreutils' stat on the same real files.</summary>
public sealed class FileSystemApiTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static (ulong Dev, ulong Ino, long Size, long Links, long MtimeNs) CoreutilsStat(string path)
    {
        var f = TempTree.Run("stat", "-c", "%d %i %s %h %.9Y", path).Trim().Split(' ');
        var t = f[4].Split('.');
        return (ulong.Parse(f[0]), ulong.Parse(f[1]), long.Parse(f[2]), long.Parse(f[3]), long.Parse(t[0]) * 1_000_000_000L + long.Parse(t[1]));
    }

    [Fact]
    public void RegularFileMatchesCoreutilsIncludingNanosecondMtime()
    {
        string file = _tree.WriteFile("a file with spaces.bin", new string('x', 12345));
        TempTree.Run("touch", "-d", "2024-02-29 13:14:15.123456789", file);
        var st = FileSystemApi.Lstat(file);
        var expected = CoreutilsStat(file);
        Assert.Equal(FileKind.Regular, st.Kind);
        Assert.Equal(expected, (st.DeviceNumber, st.Inode, st.Size, st.LinkCount, st.MtimeNs));
        Assert.Equal(123456789, st.MtimeNs % 1_000_000_000);
        var ctime = TempTree.Run("stat", "-c", "%.9Z", file).Trim().Split('.');
        Assert.Equal(long.Parse(ctime[0]) * 1_000_000_000L + long.Parse(ctime[1]), st.CtimeNs);
    }

    [Fact]
    public void SystemErrorsAreDescribedInWords()
    {
        Assert.Equal("Too many levels of symbolic links", SystemErrors.Describe(40));
        Assert.Equal("No space left on device", SystemErrors.Describe(28));
        Assert.Equal("Permission denied", SystemErrors.Describe(13));
        var e = FileSystemApi.ErrorFor(40, "/x");
        Assert.Equal("PathStatFailed", e.ErrorId);
        Assert.Equal("Cannot read the status of '/x': Too many levels of symbolic links.", e.Message);
    }

    [Fact]
    public void HardLinksShareAnInodeAndCountLinks()
    {
        string a = _tree.WriteFile("a", "same");
        string b = _tree.Path("b");
        TempTree.Run("ln", a, b);
        var sa = FileSystemApi.Lstat(a);
        var sb = FileSystemApi.Lstat(b);
        Assert.Equal(sa.Inode, sb.Inode);
        Assert.Equal(2, sa.LinkCount);
    }

    [Fact]
    public void SymlinksAreNotFollowedAndDirectoriesAreKnown()
    {
        string target = _tree.WriteFile("target", "t");
        string link = _tree.Path("link");
        File.CreateSymbolicLink(link, target);
        Assert.Equal(FileKind.SymbolicLink, FileSystemApi.Lstat(link).Kind);
        Assert.Equal(FileKind.Directory, FileSystemApi.Lstat(_tree.Root).Kind);
        Assert.Equal(FileKind.Other, FileSystemApi.Lstat("/dev/null").Kind);
    }

    [Fact]
    public void NonBmpAndInvalidUtf8NamesStatByBytes()
    {
        string emoji = _tree.WriteFile("📦 payload", "p");
        Assert.Equal(FileKind.Regular, FileSystemApi.Lstat(emoji).Kind);

        // A name that is not UTF-8 (byte 0xFF) can only be reached by its raw bytes.
        var raw = System.Text.Encoding.UTF8.GetBytes(_tree.Root + "/bad-").Concat(new byte[] { 0xFF, (byte)'x', 0 }).ToArray();
        TempTree.Run("python3", "-c", "import os,sys; open(os.fsencode(sys.argv[1]) + b'/bad-\\xffx', 'wb').write(b'z')", _tree.Root);
        Assert.Equal(0, FileSystemApi.TryLstat(raw, out var st));
        Assert.Equal(1, st.Size);
    }

    [Fact]
    public void ErrorsNameThePathWithStableIds()
    {
        var missing = Assert.Throws<HashallException>(() => FileSystemApi.Lstat(_tree.Path("nope", "x")));
        Assert.Equal("PathNotFound", missing.ErrorId);
        Assert.Contains(_tree.Path("nope", "x"), missing.Message);

        var tooLong = Assert.Throws<HashallException>(() => FileSystemApi.Lstat(_tree.Path(new string('n', 300))));
        Assert.Equal("PathTooLong", tooLong.ErrorId);
    }

    [Fact]
    public void MakeDevMatchesGlibc()
    {
        // 259:3 (an NVMe partition) and a large minor, as `stat -c %d` reports them.
        Assert.Equal(66307UL, LinuxStat.MakeDev(259, 3));
        Assert.Equal((8UL << 8) | 0xff | ((0x1234500UL & 0xffffff00UL) << 12), LinuxStat.MakeDev(8, 0x12345ff));
    }
}
