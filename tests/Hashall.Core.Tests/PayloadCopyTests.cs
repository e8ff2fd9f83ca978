using System.Runtime.InteropServices;
using Hashall.Core;
using Hashall.Core.Payloads;
using Hashall.Core.Platform;
using Hashall.Core.Rehome;
using Hashall.Tests.Shared;

namespace Hashall.Core.Tests;

/// <summary>
/// The rehome copy on real filesystems: the test disk to tmpfs, and within the test disk; files larger
/// than the 1 MiB buffer and the 64 MiB copy_file_range request, checked byte for byte. Whether the
/// kernel copies with copy_file_range between two filesystems depends on the kernel (Linux 5.3 to 5.18
/// copied across any two; later ones refuse with EXDEV unless both are of one type that offers it) and
/// on the filesystems: each test asks this kernel first, then checks the copier took the same way.
/// </summary>
public sealed class PayloadCopyTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    /// <summary>A payload folder: sizes around the buffer's and range's edges, one hard link inside, one empty file.</summary>
    private List<PayloadFile> Payload()
    {
        var sizes = new (string Name, int Size)[]
        {
            ("big/part1.mkv", (64 << 20) + (5 << 20) + 12_345), // over one copy_file_range request and many buffers
            ("big/part2.mkv", 4 << 20),                         // a whole number of buffers
            ("big/part3.mkv", (4 << 20) + 1),                   // one byte over a whole number
            ("small.nfo", 700),
            ("empty.txt", 0),
        };
        var files = new List<PayloadFile>();
        string root = _tree.Path("stash", "Payload");
        foreach (var (name, size) in sizes)
        {
            string full = Path.Combine(root, name);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var bytes = new byte[size];
            new Random(size).NextBytes(bytes);
            File.WriteAllBytes(full, bytes);
            files.Add(new PayloadFile { TorrentPath = "Payload/" + name, FullName = full, Size = size, Sha1 = TempTree.Sha1Sum(full) });
        }
        string link = Path.Combine(root, "big", "part1-link.mkv");
        TempTree.Run("ln", files[0].FullName, link);
        files.Insert(1, new PayloadFile { TorrentPath = "Payload/big/part1-link.mkv", FullName = link, Size = files[0].Size, Sha1 = files[0].Sha1 });
        return files;
    }

    [DllImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static extern IntPtr CopyFileRange(IntPtr fdIn, IntPtr offIn, IntPtr fdOut, IntPtr offOut, IntPtr length, uint flags);

    /// <summary>Whether this kernel moves bytes with copy_file_range from a file in one folder to a new file in another.</summary>
    private static bool KernelCopiesByRange(string fromDir, string toDir)
    {
        string from = Path.Combine(fromDir, ".probe-" + Guid.NewGuid().ToString("N")), to = Path.Combine(toDir, ".probe-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(from, new byte[65536]);
        try
        {
            using var input = File.OpenHandle(from);
            using var output = File.OpenHandle(to, FileMode.CreateNew, FileAccess.Write);
            long n = (long)CopyFileRange(input.DangerousGetHandle(), IntPtr.Zero, output.DangerousGetHandle(), IntPtr.Zero, (IntPtr)65536, 0);
            return n > 0; // -1 (EXDEV, EOPNOTSUPP, ENOSYS, ...) or 0 (nothing copied): read and write
        }
        finally
        {
            File.Delete(from);
            File.Delete(to);
        }
    }

    /// <summary>Copies with the copier and checks every byte went the way this kernel offers between the two folders.</summary>
    private static PayloadCopier.Outcome CopyCheckingTheWay(List<PayloadFile> files, string target, Action<long> copied, Action<long> verified)
    {
        bool ranged = KernelCopiesByRange(Path.GetDirectoryName(files[0].FullName)!, target);
        PayloadCopier.NativeCopy.BytesByRange = PayloadCopier.NativeCopy.BytesByReadWrite = 0;
        var outcome = PayloadCopier.CopyAndVerify(files, target, copied, verified, default);
        Assert.Equal(ranged ? (outcome.Bytes, 0L) : (0L, outcome.Bytes), (PayloadCopier.NativeCopy.BytesByRange, PayloadCopier.NativeCopy.BytesByReadWrite));
        return outcome;
    }

    private static void AssertSameBytes(IEnumerable<PayloadFile> files, string stagingRoot)
    {
        foreach (var f in files)
        {
            string copy = Path.Combine(stagingRoot, f.TorrentPath);
            Assert.True(File.ReadAllBytes(f.FullName).AsSpan().SequenceEqual(File.ReadAllBytes(copy)), $"'{copy}' differs from '{f.FullName}'");
            Assert.Equal(FileSystemApi.Lstat(f.FullName).MtimeNs, FileSystemApi.Lstat(copy).MtimeNs);
        }
    }

    [RequiresFact(Needs.Tmpfs)]
    public void ACopyToTmpfsIsByteForByteTheSource()
    {
        var files = Payload();
        string pool = _tree.MountTmpfs("pool", "size=200m");
        long copied = 0, verified = 0;
        var outcome = CopyCheckingTheWay(files, pool, n => Interlocked.Add(ref copied, n), n => Interlocked.Add(ref verified, n)); // EXDEV on Linux 5.19 and later: read/write
        Assert.Equal(5, outcome.Files); // the hard link is made, not copied
        long distinct = files.Where(f => !f.FullName.EndsWith("part1-link.mkv")).Sum(f => f.Size);
        Assert.Equal(distinct, outcome.Bytes);
        Assert.Equal(distinct, copied);
        Assert.Equal(distinct, verified); // every inode read back once, by the pipelined verifier
        AssertSameBytes(files, pool);
        Assert.Equal(FileSystemApi.Lstat(Path.Combine(pool, "Payload/big/part1.mkv")).Inode, FileSystemApi.Lstat(Path.Combine(pool, "Payload/big/part1-link.mkv")).Inode);
    }

    [Fact]
    public void ACopyOnTheSameFilesystemIsByteForByteTheSource()
    {
        var files = Payload();
        string target = _tree.Path("target");
        Directory.CreateDirectory(target);
        CopyCheckingTheWay(files, target, _ => { }, _ => { }); // copy_file_range on Linux since 4.5
        AssertSameBytes(files, target);
    }

    [RequiresFact(Needs.Tmpfs)]
    public void ACopyWhoseReadBackDiffersFromTheCatalogFailsNamingTheFile()
    {
        var files = Payload();
        files[^2].Sha1 = new string('0', 40); // small.nfo: the catalog expects other content
        string pool = _tree.MountTmpfs("pool", "size=200m");
        var e = Assert.Throws<HashallException>(() => PayloadCopier.CopyAndVerify(files, pool, _ => { }, _ => { }, default));
        Assert.Equal("RehomeVerifyFailed", e.ErrorId);
        Assert.Contains("small.nfo", e.Message);
    }
}
