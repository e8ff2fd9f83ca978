using Hashall.Core.Platform;
using Hashall.Core.Scanning;

namespace Hashall.Core.Tests;

/// <summary>Invoke-HashallScan's engine on real trees: what it records, what it reads, what it reports.</summary>
public sealed class ScannerTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static byte[] Random(int size, int seed) => ScanFixture.RandomBytes(size, seed);

    /// <summary>Nested dirs, hard links, a symlink and a symlink loop, empty and sparse files, odd names.</summary>
    private void BuildOddTree()
    {
        _f.Write("a/b/c/deep.bin", Random(200_000, 1));
        _f.Write("a/same.bin", Random(5000, 2));
        _f.Write("empty", "");
        _f.Write("with space .txt", "spaces");
        _f.Write("new\nline", "newline in the name");
        _f.Write("📦 box 𝄞.mkv", Random(70_000, 3));
        _f.Write("Ünïcödé/ファイル", "bmp");
        TempTree.Run("truncate", "-s", "3M", Path.Combine(_f.Data, "sparse.img"));
        TempTree.Run("ln", Path.Combine(_f.Data, "a/same.bin"), Path.Combine(_f.Data, "a/b/hardlink.bin"));
        File.CreateSymbolicLink(Path.Combine(_f.Data, "link-to-same"), Path.Combine(_f.Data, "a/same.bin"));
        File.CreateSymbolicLink(Path.Combine(_f.Data, "a/loop"), Path.Combine(_f.Data, "a"));
        File.CreateSymbolicLink(Path.Combine(_f.Data, "dangling"), Path.Combine(_f.Data, "nowhere"));
    }

    private static readonly string[] OddTreeFiles =
    {
        "a/b/c/deep.bin", "a/same.bin", "a/b/hardlink.bin", "empty", "with space .txt", "new\nline", "📦 box 𝄞.mkv", "Ünïcödé/ファイル", "sparse.img",
    };

    [Fact]
    public void FullScanRecordsEveryRegularFileWithHashesThatMatchCoreutils()
    {
        BuildOddTree();
        var result = _f.Scan(new ScanOptions { Algorithms = HashAlgorithms.Sha256 });

        Assert.Empty(_f.Observer.Errors);
        Assert.True(result.Completed);
        Assert.Equal(OddTreeFiles.Length, result.Seen);
        Assert.Equal(OddTreeFiles.Length, result.Added);
        Assert.Equal(OddTreeFiles.Length - 1, result.Hashed); // the hard link's inode is read once
        var rows = _f.Rows();
        Assert.Equal(OddTreeFiles.Select(f => Path.Combine(_f.Data, f)).Order(StringComparer.Ordinal), rows.Keys.Order(StringComparer.Ordinal));
        foreach (var file in OddTreeFiles)
        {
            var row = rows[Path.Combine(_f.Data, file)];
            string full = Path.Combine(_f.Data, file);
            Assert.Equal(TempTree.Sha1Sum(full), row.Sha1);
            Assert.Equal(TempTree.Sha256Sum(full), row.Sha256);
            var st = FileSystemApi.Lstat(full);
            Assert.Equal(st.Size, row.Size);
            Assert.Equal(st.MtimeNs, row.MtimeNs);
            Assert.Equal((long)st.Inode, row.Inode);
            Assert.Equal(st.LinkCount, row.LinkCount);
            Assert.Equal("active", row.Status);
        }
        Assert.Equal(rows[Path.Combine(_f.Data, "a/same.bin")].Inode, rows[Path.Combine(_f.Data, "a/b/hardlink.bin")].Inode);
        Assert.Equal(3L << 20, rows[Path.Combine(_f.Data, "sparse.img")].Size);
        Assert.Equal("da39a3ee5e6b4b0d3255bfef95601890afd80709", rows[Path.Combine(_f.Data, "empty")].Sha1);
    }

    [Fact]
    public void NamesThatAreNotUtf8AreReportedAndNeverRecorded()
    {
        _f.Write("good", "g");
        TempTree.Run("python3", "-c", "import os,sys; d=os.fsencode(sys.argv[1]); open(d+b'/bad-\\xff\\xfe.bin','wb').write(b'z'); os.mkdir(d+b'/dir-\\xc3'); open(d+b'/dir-\\xc3/inside','wb').write(b'i')", _f.Data);
        var result = _f.Scan();
        Assert.Equal(2, _f.Observer.Errors.Count);
        Assert.All(_f.Observer.Errors, e => Assert.Equal("InvalidUtf8Name", e.ErrorId));
        Assert.Contains(_f.Observer.Errors, e => ((string)e.Target!).Contains("bad-"));
        Assert.Equal(2, result.Errors);
        Assert.Equal([Path.Combine(_f.Data, "good")], _f.Rows().Keys);
    }

    [Fact]
    public void UnchangedFilesAreNotReadAgain()
    {
        BuildOddTree();
        TempTree.Age(_f.Data);
        _f.Scan();
        var before = _f.Rows();
        var again = _f.Scan();
        Assert.Equal(OddTreeFiles.Length, again.Unchanged);
        Assert.Equal(0, again.Hashed + again.Added + again.Changed + again.Moved + again.Deleted);
        var after = _f.Rows();
        foreach (var (path, row) in before)
        {
            Assert.Equal(row.FileId, after[path].FileId);
            Assert.Equal(row.Sha1, after[path].Sha1);
            Assert.True(after[path].LastSeen > row.LastSeen, "an unchanged file is seen again by the rescan");
        }
    }

    [Fact]
    public void ModifiedTouchedRenamedDeletedAndReplacedFilesAreEachRecognised()
    {
        string modify = _f.Write("modify", "one");
        string touch = _f.Write("touch", "same content");
        string rename = _f.Write("dir/rename-me", Random(10_000, 4));
        string delete = _f.Write("delete", "bye");
        string replace = _f.Write("replace", "AAAA");
        _f.Scan();
        var renamedId = _f.Row("dir/rename-me").FileId;
        var replacedInode = _f.Row("replace").Inode;

        File.AppendAllText(modify, " two");
        TempTree.Run("touch", "-d", "2030-01-01 00:00:00.5", touch);
        Directory.CreateDirectory(Path.Combine(_f.Data, "elsewhere"));
        File.Move(rename, Path.Combine(_f.Data, "elsewhere", "renamed"));
        File.Delete(delete);
        // Same size and mtime, new inode and new bytes: must be read again.
        string temp = _f.Write("replace.tmp", "BBBB");
        TempTree.Run("touch", "-r", replace, temp);
        File.Move(temp, replace, overwrite: true);

        var result = _f.Scan();
        Assert.Equal(3, result.Changed); // modify, touch, replace
        Assert.Equal(1, result.Moved);
        Assert.Equal(1, result.Deleted);
        Assert.Equal(0, result.Added);
        Assert.Equal(3, result.Hashed); // the rename is not read

        Assert.Equal(TempTree.Sha1Sum(modify), _f.Row("modify").Sha1);
        Assert.Equal(TempTree.Sha1Sum(touch), _f.Row("touch").Sha1);
        var moved = _f.Row("elsewhere/renamed");
        Assert.Equal(renamedId, moved.FileId); // the row followed the inode
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(_f.Data, "elsewhere", "renamed")), moved.Sha1);
        Assert.False(_f.Rows().ContainsKey(rename));
        Assert.Equal("deleted", _f.Row("delete").Status);
        Assert.NotEqual(replacedInode, _f.Row("replace").Inode);
        Assert.Equal(TempTree.Sha1Sum(replace), _f.Row("replace").Sha1);

        // A deleted file that comes back is active again.
        File.WriteAllText(delete, "bye");
        var back = _f.Scan();
        Assert.Equal("active", _f.Row("delete").Status);
        Assert.Equal(0, back.Deleted);
    }

    [Fact]
    public void ANewHardLinkToAKnownFileTakesItsHashesWithoutReading()
    {
        string original = _f.Write("original.bin", Random(50_000, 5));
        TempTree.Age(_f.Data);
        _f.Scan();
        TempTree.Run("ln", original, Path.Combine(_f.Data, "second-link.bin"));
        var result = _f.Scan();
        Assert.Equal(1, result.Added);
        Assert.Equal(0, result.Hashed);
        Assert.Equal(0, result.Moved);
        Assert.Equal(_f.Row("original.bin").Sha1, _f.Row("second-link.bin").Sha1);
        Assert.Equal(2, _f.Row("second-link.bin").LinkCount);
        Assert.Equal(2, _f.Row("original.bin").LinkCount); // refreshed: its link count moved
    }

    [Fact]
    public void NewFilesBesideCataloguedOnesElsewhereOnTheDeviceAreAddedAndLinksRecognised()
    {
        string known = _f.Write("old/known.bin", Random(30_000, 70));
        _f.Scan(null, default, Path.Combine(_f.Data, "old"));
        Directory.CreateDirectory(Path.Combine(_f.Data, "new"));
        for (int i = 0; i < 300; i++)
            _f.Write($"new/f{i}.bin", Random(5000, 100 + i));
        TempTree.Run("ln", known, Path.Combine(_f.Data, "new", "link-to-known.bin"));
        var result = _f.Scan(null, default, Path.Combine(_f.Data, "new"));
        Assert.True(result.Completed);
        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(301, result.Added);
        Assert.Equal(300, result.Hashed); // the link outside the scanned root's rows is known by inode: not read
        Assert.Equal(_f.Row("old/known.bin").Sha1, _f.Row("new/link-to-known.bin").Sha1);
    }

    [Fact]
    public void ScanningASubdirectoryDoesNotDeleteWhatIsOutsideIt()
    {
        _f.Write("keep/a", "a");
        _f.Write("sub/b", "b");
        _f.Scan();
        File.Delete(Path.Combine(_f.Data, "sub/b"));
        var result = _f.Scan(null, default, Path.Combine(_f.Data, "sub"));
        Assert.Equal(1, result.Deleted);
        Assert.Equal("active", _f.Row("keep/a").Status);
    }

    [RequiresFact(Needs.Tmpfs)]
    public void NestedMountsAreReportedAndCrossedOnlyWhenAsked()
    {
        _f.Write("outer", "o");
        string mount = Path.Combine(_f.Data, "mnt");
        Directory.CreateDirectory(mount);
        TempTree.Run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount);
        try
        {
            File.WriteAllText(Path.Combine(mount, "inner"), "i");
            var result = _f.Scan();
            Assert.Equal([mount], result.NestedMounts);
            Assert.Equal([mount], _f.Observer.NestedMounts);
            Assert.Equal([Path.Combine(_f.Data, "outer")], _f.Rows().Keys);

            var crossed = _f.Scan(new ScanOptions { CrossMounts = true });
            Assert.Equal(2, crossed.Seen);
            var rows = _f.Rows();
            Assert.Equal(2, rows.Count);
            Assert.NotEqual(rows[Path.Combine(_f.Data, "outer")].DeviceId, rows[Path.Combine(mount, "inner")].DeviceId);
            Assert.Equal("inner", rows[Path.Combine(mount, "inner")].RelativePath); // relative to the tmpfs root
        }
        finally
        {
            TempTree.Run("umount", "-l", mount);
        }
    }

    [Fact]
    public void UnreadableFilesAndDirectoriesAreErrorsAndTheirRowsAreKept()
    {
        string secret = _f.Write("secret.bin", "top secret");
        string closed = _f.Write("closed/inner.bin", "inner");
        _f.Write("open.bin", "open");
        _f.Scan();
        File.AppendAllText(secret, " changed"); // must be read again, and cannot be
        File.SetUnixFileMode(secret, UnixFileMode.None);
        File.SetUnixFileMode(Path.GetDirectoryName(closed)!, UnixFileMode.None);
        // The catalog and the tree stay writable by that user; only the two entries are closed to it.
        TempTree.Run("chmod", "-R", "a+rwX", _f.Tree.Root, "--preserve-root");
        File.SetUnixFileMode(secret, UnixFileMode.None);
        File.SetUnixFileMode(Path.GetDirectoryName(closed)!, UnixFileMode.None);
        try
        {
            var result = Privileges.AsUser(Privileges.Nobody, () => _f.Scan());
            var ids = _f.Observer.Errors.Select(e => e.ErrorId).Order().ToArray();
            Assert.Equal(["DirectoryUnreadable", "FileUnreadable"], ids);
            Assert.Contains(_f.Observer.Errors, e => (string)e.Target! == secret);
            Assert.Equal(0, result.Deleted);
            Assert.Equal("active", _f.Row("closed/inner.bin").Status); // not marked deleted: its directory could not be listed
            Assert.Equal(TempTree.Sha1Sum(_f.Write("expected", "top secret")), _f.Row("secret.bin").Sha1); // last good knowledge
        }
        finally
        {
            File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(Path.GetDirectoryName(closed)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void AnUnreadableInodeWithSeveralLinksIsOneErrorAndTheScanGoesOn()
    {
        string secret = _f.Write("a/secret.bin", "hard-linked and unreadable");
        TempTree.Run("ln", secret, Path.Combine(_f.Data, "b-link.bin"));
        TempTree.Run("ln", secret, Path.Combine(_f.Data, "c-link.bin"));
        _f.Write("fine.bin", "fine");
        TempTree.Run("chmod", "-R", "a+rwX", _f.Tree.Root);
        File.SetUnixFileMode(secret, UnixFileMode.None);
        var result = Privileges.AsUser(Privileges.Nobody, () => _f.Scan());
        Assert.True(result.Completed);
        Assert.Equal("FileUnreadable", Assert.Single(_f.Observer.Errors).ErrorId);
        Assert.Equal([Path.Combine(_f.Data, "fine.bin")], _f.Rows().Keys);
    }

    [Fact]
    public void AFileMovedBetweenTwoScannedRootsIsMovedNotDeleted()
    {
        string incomplete = Path.Combine(_f.Data, "incomplete"), complete = Path.Combine(_f.Data, "complete");
        _f.Write("incomplete/show.mkv", Random(20_000, 50));
        Directory.CreateDirectory(complete);
        _f.Scan(null, default, complete, incomplete);
        long id = _f.Row("incomplete/show.mkv").FileId;
        File.Move(Path.Combine(incomplete, "show.mkv"), Path.Combine(complete, "show.mkv"));
        var result = _f.Scan(null, default, complete, incomplete);
        Assert.Equal(1, result.Moved);
        Assert.Equal(0, result.Deleted);
        Assert.Equal(0, result.Hashed);
        var row = _f.Row("complete/show.mkv");
        Assert.Equal(id, row.FileId);
        Assert.Equal("active", row.Status);
    }

    [Fact]
    public void OverLongPathsAreReportedNotFatal()
    {
        _f.Write("short", "s");
        TempTree.Run("python3", "-c", "import os,sys; os.chdir(sys.argv[1])\nfor i in range(18):\n  os.mkdir('d'*250); os.chdir('d'*250)\nopen('f','w').write('x')", _f.Data);
        var result = _f.Scan();
        Assert.True(result.Completed);
        Assert.Contains(_f.Observer.Errors, e => e.ErrorId == "PathTooLong" || e.ErrorId == "DirectoryUnreadable");
        Assert.Contains(Path.Combine(_f.Data, "short"), _f.Rows().Keys);
    }

    [Fact]
    public void MissingRootIsAnErrorAndOtherRootsStillScan()
    {
        _f.Write("x/file", "x");
        var result = _f.Scan(null, default, Path.Combine(_f.Data, "nope"), Path.Combine(_f.Data, "x"));
        Assert.Equal("PathNotFound", Assert.Single(_f.Observer.Errors).ErrorId);
        Assert.Equal(1, result.Added);
    }

    [Fact]
    public void ARootThatIsAFifoOrADeviceIsNotADirectoryAndNothingOfItIsRegistered()
    {
        _f.Write("x/file", "x");
        string fifo = Path.Combine(_f.Tree.Root, "pipe");
        TempTree.Run("mkfifo", fifo);
        var result = _f.Scan(null, default, fifo, "/dev/null", Path.Combine(_f.Data, "x"));
        Assert.Equal(["NotADirectory", "NotADirectory"], _f.Observer.Errors.Select(e => e.ErrorId));
        Assert.Equal($"'{fifo}' is not a directory (nor a regular file: it is a device, a FIFO or a socket); there is nothing to scan in it.", _f.Observer.Errors[0].Message);
        Assert.Contains("'/dev/null' is not a directory", _f.Observer.Errors[1].Message);
        Assert.Equal(1, result.Added);
        using var db = Hashall.Core.Catalog.CatalogDatabase.Open(_f.Db);
        Assert.Single(new Hashall.Core.Devices.DeviceStore(db).List()); // not /dev's devtmpfs
    }

    [Fact]
    public void ASymlinkLoopAsRootIsReportedInWordsNotAsANumber()
    {
        string loop = Path.Combine(_f.Tree.Root, "loop");
        File.CreateSymbolicLink(loop, loop);
        _f.Scan(null, default, loop);
        var error = Assert.Single(_f.Observer.Errors);
        Assert.Equal($"Cannot read the status of '{loop}': Too many levels of symbolic links.", error.Message);
    }

    [Fact]
    public void AFileThatChangesOrVanishesAfterItWasSeenIsNotHashedAsIfUnchanged()
    {
        string file = _f.Write("moving", Random(300_000, 6));
        var seen = FileSystemApi.Lstat(file);
        File.AppendAllText(file, "more");
        var changed = Assert.Throws<HashallException>(() => FileHasher.Hash(file, seen, HashAlgorithms.Sha1, false, default));
        Assert.Equal("FileChangedWhileReading", changed.ErrorId);
        File.Delete(file);
        var vanished = Assert.Throws<HashallException>(() => FileHasher.Hash(file, seen, HashAlgorithms.Sha1, false, default));
        Assert.Equal("FileVanished", vanished.ErrorId);
    }

    [Fact]
    public void QuickModeSamplesBigFilesAndCandidatesModeHashesOnlyLikelyDuplicates()
    {
        var big = Random(1_000_000, 7);
        _f.Write("big-a", big);
        _f.Write("big-b", big); // a true duplicate
        var middle = (byte[])big.Clone();
        middle[500_000] ^= 0xFF;
        _f.Write("big-middle", middle); // same size, head and tail: same sample, different content
        _f.Write("big-unique", Random(900_000, 8));
        _f.Write("small", "small files are read whole");
        TempTree.Age(_f.Data);

        var quick = _f.Scan(new ScanOptions { Mode = ScanMode.Quick });
        Assert.Equal(5, quick.Added);
        Assert.Equal(4L * 2 * FileHasher.SampleBytes + new FileInfo(Path.Combine(_f.Data, "small")).Length, quick.BytesHashed);
        Assert.Null(_f.Row("big-a").Sha1);
        Assert.NotNull(_f.Row("big-a").QuickHash);
        Assert.Equal(_f.Row("big-a").QuickHash, _f.Row("big-middle").QuickHash);
        Assert.NotEqual(_f.Row("big-a").QuickHash, _f.Row("big-unique").QuickHash);
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(_f.Data, "small")), _f.Row("small").Sha1);

        var candidates = _f.Scan(new ScanOptions { Mode = ScanMode.Candidates });
        Assert.Equal(5, candidates.Unchanged);
        Assert.Equal(3, candidates.Hashed); // big-a, big-b, big-middle; not big-unique
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(_f.Data, "big-a")), _f.Row("big-a").Sha1);
        Assert.Equal(_f.Row("big-a").Sha1, _f.Row("big-b").Sha1);
        Assert.NotEqual(_f.Row("big-a").Sha1, _f.Row("big-middle").Sha1);
        Assert.Null(_f.Row("big-unique").Sha1);

        var full = _f.Scan();
        Assert.Equal(1, full.Hashed); // only big-unique still lacked its SHA-1
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(_f.Data, "big-unique")), _f.Row("big-unique").Sha1);
    }

    [Fact]
    public void StoppingKeepsFinishedWorkAndTheNextScanContinues()
    {
        for (int i = 0; i < 400; i++)
            _f.Write($"d{i % 7}/f{i}", Random(256 * 1024, 100 + i));
        TempTree.Age(_f.Data); // not racily clean: what the stopped scan saved is not read again
        using var cts = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan cancelledAt = TimeSpan.Zero;
        long seenAtStop = 0;
        ScanResult stopped;
        // Stopped at the first progress report after a file was hashed and written: long before the end.
        var observerHook = new Action<ScanProgress>(p =>
        {
            if (p.FilesHashed > 0 && !cts.IsCancellationRequested)
            {
                cancelledAt = clock.Elapsed;
                seenAtStop = p.FilesSeen;
                cts.Cancel();
            }
        });
        using (var db = Hashall.Core.Catalog.CatalogDatabase.Open(_f.Db))
        {
            var observer = new RecordingObserver { OnProgress = observerHook };
            stopped = new Scanner(db, new ScanOptions { ThrottleLimit = 1, ProgressInterval = TimeSpan.Zero }, observer).Run(new[] { _f.Data }, cts.Token);
        }
        var stoppedAfter = clock.Elapsed - cancelledAt;
        Assert.True(cts.IsCancellationRequested, "the scan finished before it could be stopped");
        Assert.Equal(seenAtStop, stopped.Seen); // the walk went no further
        // Only a hang guard: what a stop leaves to do (the file being read, the writes) takes milliseconds,
        // but on a loaded machine the catalog's commit and close wait on a busy disk.
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(30), $"stopped after {stoppedAfter}");
        Assert.False(stopped.Completed);
        Assert.Equal(0, stopped.Deleted);
        var saved = _f.Rows();
        Assert.InRange(saved.Count, 1, 399); // what was hashed before the stop is kept
        Assert.Equal(stopped.Hashed, saved.Count);
        foreach (var (path, row) in saved)
            Assert.Equal(TempTree.Sha1Sum(path), row.Sha1);

        var next = _f.Scan();
        Assert.True(next.Completed);
        Assert.Equal(400, next.Seen);
        Assert.Equal(400 - saved.Count, next.Hashed);
        Assert.Equal(saved.Count, next.Unchanged);
    }
}
