using Hashall.Core.Scanning;

namespace Hashall.Core.Tests;

/// <summary>
/// Several roots in one scan. Sized so that the first root's hashes are being written (its write batch
/// holds a transaction) when the second root opens: tiny trees never showed the nested-transaction crash.
/// </summary>
public sealed class MultiRootScanTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static void Fill(string dir, int count, int size, int seed)
    {
        Directory.CreateDirectory(dir);
        var rnd = new Random(seed);
        var bytes = new byte[size];
        for (int i = 0; i < count; i++)
        {
            rnd.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(dir, $"f{i:D4}.bin"), bytes);
        }
    }

    private int ActiveUnder(string dir) => _f.Rows(includeDeleted: false).Keys.Count(k => k.StartsWith(dir + "/", StringComparison.Ordinal));

    [RequiresFact(Needs.Tmpfs)]
    public void TwoRootsOnDifferentFileSystemsAreBothCatalogued()
    {
        string a = _f.Tree.MountTmpfs("a", "size=400m"), b = _f.Tree.MountTmpfs("b", "size=8m");
        // A few hundred MB of new data, then small files whose rows are still being written when A's walk ends.
        Fill(Path.Combine(a, "big"), 300, 1 << 20, 1);
        Fill(Path.Combine(a, "small"), 1000, 4096, 7);
        Fill(b, 20, 4096, 2);
        TempTree.Age(a);
        TempTree.Age(b);

        var result = _f.Scan(null, default, a, b);

        Assert.Empty(_f.Observer.Errors);
        Assert.True(result.Completed);
        Assert.Equal(1320, result.Added);
        Assert.Equal(1300, ActiveUnder(a));
        Assert.Equal(20, ActiveUnder(b));
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(a, "big/f0299.bin")), _f.Rows()[Path.Combine(a, "big/f0299.bin")].Sha1);
        var again = _f.Scan(null, default, a, b);
        Assert.Equal(1320, again.Unchanged);
        Assert.Equal(0, again.Hashed);
    }

    [Fact]
    public void TwoFoldersOfAThousandFilesOnOneFileSystemAreBothCatalogued()
    {
        string a = Path.Combine(_f.Data, "A"), b = Path.Combine(_f.Data, "B");
        Fill(a, 1000, 4096, 3);
        Fill(b, 1000, 4096, 4);

        var result = _f.Scan(null, default, a, b);

        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(2000, result.Added);
        Assert.Equal(1000, ActiveUnder(a));
        Assert.Equal(1000, ActiveUnder(b));
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(b, "f0999.bin")), _f.Rows()[Path.Combine(b, "f0999.bin")].Sha1);
    }

    [Fact]
    public void AnErrorThatStopsTheScanInOneRootKeepsWhatEarlierRootsFinished()
    {
        string a = Path.Combine(_f.Data, "A"), b = Path.Combine(_f.Data, "B");
        Fill(a, 1000, 4096, 5);
        Fill(b, 10, 4096, 6);
        TempTree.Age(_f.Data);
        TempTree.Run("python3", "-c", "import os,sys; open(os.fsencode(sys.argv[1])+b'/bad-\\xff','wb').write(b'z')", b);
        // What PowerShell's WriteError does under -ErrorAction Stop: the error surfaces as an exception.
        var observer = new RecordingObserver { OnError = e => throw new InvalidOperationException("stopped by the caller: " + e.Message) };

        Assert.Throws<InvalidOperationException>(() => _f.Scan(observer, null, default, a, b));

        Assert.Equal("InvalidUtf8Name", Assert.Single(observer.Errors).ErrorId);
        Assert.Equal(1000, ActiveUnder(a));
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(a, "f0500.bin")), _f.Rows()[Path.Combine(a, "f0500.bin")].Sha1);
        // The next scan finishes the job without reading A again.
        var next = _f.Scan(null, default, a, b);
        Assert.Equal(1000, next.Unchanged);
        Assert.Equal(10, next.Added);
        Assert.Equal(10, next.Hashed);
    }
}
