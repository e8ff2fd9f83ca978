using System.Diagnostics;
using System.Text.Json;
using Hashall.Core.Torrents;

namespace Hashall.Core.Tests;

/// <summary>
/// Big content for the piece verifier: a few hundred MB over many files, made once per class, with
/// v1 torrents whose pieces are smaller (256 KiB) and larger (32 MiB) than the verifier's 8 MiB
/// segments and 16 MiB whole-piece limit, and v2/hybrid torrents with 32 MiB pieces over a part of it.
/// </summary>
public sealed class BigTorrentContent : IDisposable
{
    private readonly TempTree _tree = new();

    public BigTorrentContent()
    {
        var random = new Random(20261202);
        Content = _tree.Path("Big Set");
        // Sizes around every boundary: 8 MiB segments, 16 MiB, 32 MiB pieces, tiny files between them.
        long[] sizes =
        {
            8L << 20, (8L << 20) + 1, (8L << 20) - 1, 3, 16L << 20, (16L << 20) + 4097, 0, 1, (32L << 20) - 1, (32L << 20) + 1,
            12_345, 700_001, 5L << 20, 262_144, 262_145, (24L << 20) + 7, 40_000_000, 17, 3_000_000, (33L << 20) + 16_384,
        };
        var buffer = new byte[1 << 20];
        for (int i = 0; i < sizes.Length; i++)
        {
            string path = Path.Combine(Content, i % 3 == 0 ? "" : $"d{i % 3}", $"part {i:D2}.bin");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var f = File.Create(path);
            for (long left = sizes[i]; left > 0; left -= buffer.Length)
            {
                random.NextBytes(buffer);
                f.Write(buffer, 0, (int)Math.Min(left, buffer.Length));
            }
        }
        Small = Path.Combine(Content, "d2"); // a sub-folder for the v2 and hybrid torrents (fewer files: less padding)
        string outDir = _tree.Path("torrents");
        Directory.CreateDirectory(outDir);
        V1Small = TorrentSamples.MkTorrent(Content, outDir, 18);
        V1Large = TorrentSamples.MkTorrent(Content, outDir, 25);
        HybridLarge = TorrentSamples.LtTorrent(Small, outDir, "hybrid", 32 << 20);
        V2Large = TorrentSamples.LtTorrent(Small, outDir, "v2", 32 << 20);
    }

    public string Content { get; }
    public string Small { get; }
    public string V1Small { get; }
    public string V1Large { get; }
    public string HybridLarge { get; }
    public string V2Large { get; }

    public void Dispose() => _tree.Dispose();
}

/// <summary>The piece verifier against real torrents (mktorrent, libtorrent, a small Python maker) and libtorrent's own check of the same data.</summary>
public sealed class TorrentVerifierTests : IClassFixture<TorrentSamples>, IClassFixture<BigTorrentContent>, IDisposable
{
    /// <summary>libtorrent's check of (torrent, save path) pairs: which pieces it has, as '1'/'0' per piece.</summary>
    private const string CheckScript = """
import libtorrent as lt, sys, time, json
ses = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False})
out = []
args = sys.argv[1:]
for torrent, save in zip(args[0::2], args[1::2]):
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent, {"max_pieces": 10000000})
    p.save_path = save
    p.flags |= lt.torrent_flags.upload_mode
    p.flags &= ~lt.torrent_flags.auto_managed
    p.flags &= ~lt.torrent_flags.paused
    h = ses.add_torrent(p)
    deadline = time.time() + 120
    while True:
        s = h.status()
        if s.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data) and s.has_metadata:
            break
        if time.time() > deadline:
            raise SystemExit("libtorrent did not finish checking " + torrent)
        time.sleep(0.02)
    out.append("".join("1" if b else "0" for b in h.status().pieces))
    ses.remove_torrent(h)
print(json.dumps(out))
""";

    /// <summary>A v1 torrent with any piece length (mktorrent and libtorrent only make powers of two).</summary>
    private const string MakeV1Script = """
import hashlib, sys, os
def benc(x):
    if isinstance(x, int): return b"i%de" % x
    if isinstance(x, str): x = x.encode()
    if isinstance(x, bytes): return b"%d:%s" % (len(x), x)
    if isinstance(x, list): return b"l" + b"".join(benc(i) for i in x) + b"e"
    return b"d" + b"".join(benc(k) + benc(x[k]) for k in sorted(x, key=lambda k: k.encode())) + b"e"
root, out, pl = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = []
for d, dirs, names in os.walk(root):
    for n in names:
        full = os.path.join(d, n)
        files.append((os.path.relpath(full, root).split(os.sep), full))
files.sort()
data = b"".join(open(f, "rb").read() for _, f in files)
pieces = b"".join(hashlib.sha1(data[i:i + pl]).digest() for i in range(0, len(data), pl))
info = {"name": os.path.basename(root), "piece length": pl, "pieces": pieces,
        "files": [{"length": os.path.getsize(f), "path": p} for p, f in files]}
open(out, "wb").write(benc({"announce": "http://127.0.0.1:1/announce", "info": info}))
""";

    private readonly TorrentSamples _samples;
    private readonly BigTorrentContent _big;
    private readonly TempTree _tree = new();

    public TorrentVerifierTests(TorrentSamples samples, BigTorrentContent big)
    {
        _samples = samples;
        _big = big;
    }

    public void Dispose() => _tree.Dispose();

    private static TorrentCheck Verify(string torrent, string content, bool quick = false, int threads = 2) =>
        Verify(TorrentMetainfo.Load(torrent), content, out _, quick, threads);

    private static TorrentCheck Verify(TorrentMetainfo meta, string content, out bool[] good, bool quick = false, int threads = 2)
    {
        var result = TorrentVerifier.Verify(meta, content, new TorrentVerifyOptions { Quick = quick, ThrottleLimit = threads }, null, CancellationToken.None, out good);
        Assert.Equal(0, TorrentVerifier.LiveWorkers);
        return result;
    }

    /// <summary>libtorrent's verdict per piece for each (torrent, folder that holds the content).</summary>
    private static List<string> Libtorrent(params (string Torrent, string SavePath)[] pairs)
    {
        var args = new List<string> { "-c", CheckScript };
        foreach (var (t, s) in pairs)
        {
            args.Add(t);
            args.Add(s);
        }
        using var doc = JsonDocument.Parse(TempTree.Run(TorrentSamples.Python, args.ToArray()));
        return doc.RootElement.EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    private static FileCheck F(TorrentCheck r, int layoutIndex) => r.Files.Single(f => f.RelativePath == Layout[layoutIndex].Path);

    private static string Bits(bool[] good) => new string(good.Select(g => g ? '1' : '0').ToArray());

    /// <summary>Our good pieces (full check) equal libtorrent's for the same data (one libtorrent session for all).</summary>
    private static List<TorrentCheck> AssertAgreesWithLibtorrent(IEnumerable<string> torrents, string content)
    {
        var results = new List<TorrentCheck>();
        var ours = new List<string>();
        var pairs = new List<(string, string)>();
        foreach (string torrent in torrents)
        {
            results.Add(Verify(TorrentMetainfo.Load(torrent), content, out var good));
            ours.Add(Bits(good));
            pairs.Add((torrent, Path.GetDirectoryName(content)!));
        }
        var theirs = Libtorrent(pairs.ToArray());
        for (int i = 0; i < ours.Count; i++)
            Assert.True(theirs[i] == ours[i], $"{pairs[i].Item1}: libtorrent {theirs[i]}, ours {ours[i]}");
        return results;
    }

    private static TorrentCheck AssertAgreesWithLibtorrent(string torrent, string content) => AssertAgreesWithLibtorrent(new[] { torrent }, content)[0];

    private static void WriteRandom(string path, long size, Random random)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = new byte[size];
        random.NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
    }

    private static void Flip(string path, long at)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = at;
        int b = f.ReadByte();
        f.Position = at;
        f.WriteByte((byte)(b ^ 0x5A));
    }

    /// <summary>Five files; the middle one (index 2) has a name with a space and a non-BMP character (newlines: see NamesWithControlCharacters…).</summary>
    private static readonly (string Path, long Size)[] Layout =
    {
        ("a first.bin", 40_000), ("Sub/b.bin", 70_001), ("Sub/mid dle 😀.bin", 100_000), ("Sub/Deep/d.bin", 50_000), ("z.bin", 16_384 * 3),
    };

    private string MakeContent(string name, int seed = 7)
    {
        string content = _tree.Path(name);
        var random = new Random(seed);
        foreach (var (path, size) in Layout)
            WriteRandom(Path.Combine(content, path), size, random);
        return content;
    }

    /// <summary>Torrents of one layout: v1 at 32 and 64 KiB (mktorrent), 16 KiB and 100,000 bytes (not a power of two; a small Python maker), v2 and hybrid at 16 and 64 KiB (libtorrent).</summary>
    private List<string> MakeTorrents(string content)
    {
        string outDir = _tree.Path("torrents-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(outDir);
        string odd = Path.Combine(outDir, "odd-100000.torrent"), small = Path.Combine(outDir, "small-16384.torrent");
        TempTree.Run(TorrentSamples.Python, "-c", MakeV1Script, content, odd, "100000");
        TempTree.Run(TorrentSamples.Python, "-c", MakeV1Script, content, small, "16384"); // mktorrent's least is 32 KiB
        return new List<string>
        {
            small, TorrentSamples.MkTorrent(content, outDir, 15), TorrentSamples.MkTorrent(content, outDir, 16), odd,
            TorrentSamples.LtTorrent(content, outDir, "v2", 16384), TorrentSamples.LtTorrent(content, outDir, "v2", 65536),
            TorrentSamples.LtTorrent(content, outDir, "hybrid", 16384), TorrentSamples.LtTorrent(content, outDir, "hybrid", 65536),
        };
    }

    /// <summary>The byte ranges of each file under the piece holding byte <paramref name="at"/> of file <paramref name="file"/>.</summary>
    private static Dictionary<string, ByteRange> UnderPiece(TorrentMetainfo meta, string file, long at)
    {
        var f = meta.Files.Single(x => x.RelativePath == file);
        long ps = (f.Offset + at) / meta.PieceLength * meta.PieceLength, pe = ps + meta.PieceLength;
        var result = new Dictionary<string, ByteRange>();
        foreach (var g in meta.Files.Where(g => !g.IsPad && g.Length > 0 && g.Offset < pe && g.Offset + g.Length > ps))
        {
            long from = Math.Max(ps, g.Offset) - g.Offset, to = Math.Min(pe, g.Offset + g.Length) - g.Offset;
            result[g.RelativePath] = new ByteRange(from, to - from);
        }
        return result;
    }

    [Fact]
    public void EverySampleIsCompleteAsLibtorrentSays()
    {
        var pairs = new List<(string, string)>();
        foreach (string torrent in _samples.All)
        {
            var meta = TorrentMetainfo.Load(torrent);
            // libtorrent (so qBittorrent) takes a v2 torrent whose tree holds one file at its top for a single file of that name.
            string content = meta.Version == TorrentVersion.V2 && meta.IsSingleFile && meta.Files[0].Path[0] != meta.Name
                ? Path.Combine(_samples.Root, meta.Name, meta.Files[0].Path[0])
                : Path.Combine(_samples.Root, meta.Name);
            var r = Verify(meta, content, out var good);
            Assert.True(r.Status == TorrentCheckStatus.Complete, $"{torrent}: {r.Status} {string.Join(", ", r.Files.Where(f => f.Status != FileCheckStatus.Complete))}");
            Assert.Equal(meta.PieceCount, r.PiecesTotal);
            Assert.Equal(r.PiecesTotal, r.PiecesChecked);
            Assert.Equal(r.PiecesTotal, r.PiecesGood);
            Assert.Equal(0, r.PiecesBad);
            Assert.Equal(meta.TotalLength, r.BytesRead);
            Assert.Equal(meta.Version, r.Version);
            Assert.Equal(meta.Hash, r.Hash);
            Assert.Equal(meta.Files.Count(f => !f.IsPad), r.Files.Count);
            Assert.All(r.Files, f => Assert.Equal(FileCheckStatus.Complete, f.Status));
            Assert.All(r.Files.Where(f => f.Length > 0), f =>
            {
                Assert.NotNull(f.Identity);
                Assert.Equal(f.Length, f.Identity!.Value.Size);
                Assert.Equal(f.PiecesChecked, f.Pieces);
                Assert.True(f.Pieces > 0);
            });
            Assert.All(good, Assert.True);
            pairs.Add((torrent, Path.GetDirectoryName(content)!));
        }
        Assert.All(Libtorrent(pairs.ToArray()), bits => Assert.DoesNotContain('0', bits));
    }

    [Fact]
    public void LayoutTorrentsAreCompleteWithOddPieceLengthAndOddNames()
    {
        string content = MakeContent("Odd Names");
        foreach (string torrent in MakeTorrents(content))
        {
            var r = Verify(torrent, content);
            Assert.Equal(TorrentCheckStatus.Complete, r.Status);
            Assert.Equal(Layout.Select(l => l.Path).Order(StringComparer.Ordinal), r.Files.Select(f => f.RelativePath).Order(StringComparer.Ordinal));
            Assert.Equal(Layout.Sum(l => l.Size), r.BytesRead);
            Assert.Contains(r.Files, f => f.FullPath == Path.Combine(content, "Sub", "mid dle 😀.bin") && f.Status == FileCheckStatus.Complete);
            // One thread and many agree.
            var one = Verify(torrent, content, threads: 1);
            var many = Verify(torrent, content, threads: 7);
            Assert.Equal(TorrentCheckStatus.Complete, one.Status);
            Assert.Equal(TorrentCheckStatus.Complete, many.Status);
        }
    }

    [Fact]
    public void OneFlippedByteDamagesExactlyTheFilesUnderItsPiece()
    {
        string content = MakeContent("Flip");
        var torrents = MakeTorrents(content);
        string middle = Layout[2].Path;
        // Byte 0 of the middle file: in v1 its piece starts in the file before it.
        foreach (long at in new long[] { 0, 50_000, 99_999 })
        {
            Flip(Path.Combine(content, middle), at);
            try
            {
                var results = AssertAgreesWithLibtorrent(torrents, content);
                for (int t = 0; t < torrents.Count; t++)
                {
                    string torrent = torrents[t];
                    var meta = TorrentMetainfo.Load(torrent);
                    var r = results[t];
                    var expected = UnderPiece(meta, middle, at);
                    Assert.Equal(TorrentCheckStatus.Damaged, r.Status);
                    Assert.Equal(1, r.PiecesBad);
                    Assert.Equal(r.PiecesTotal - 1, r.PiecesGood);
                    foreach (var f in r.Files)
                    {
                        if (expected.TryGetValue(f.RelativePath, out var range))
                        {
                            Assert.True(f.Status == FileCheckStatus.Damaged, $"{torrent} @{at}: {f}");
                            Assert.Equal(new[] { range }, f.BadRanges);
                            Assert.Equal(1, f.PiecesBad);
                        }
                        else
                        {
                            Assert.True(f.Status == FileCheckStatus.Complete, $"{torrent} @{at}: {f}");
                            Assert.Empty(f.BadRanges);
                        }
                    }
                    if (meta.Version != TorrentVersion.V1)
                        Assert.Single(expected); // v2 pieces never span files
                    else if (at == 0)
                        Assert.Equal(2, expected.Count); // a v1 piece over the previous file and this one
                }
            }
            finally
            {
                Flip(Path.Combine(content, middle), at);
            }
        }
    }

    [Fact]
    public async Task TruncatedMissingAndNotRegularFiles()
    {
        string content = MakeContent("Broken");
        var torrents = MakeTorrents(content);
        string middle = Path.Combine(content, Layout[2].Path);
        string second = Path.Combine(content, Layout[1].Path);

        // Truncated: SizeMismatch, the pieces from the one holding the new end are bad.
        using (var f = new FileStream(middle, FileMode.Open))
            f.SetLength(60_000);
        var truncated = AssertAgreesWithLibtorrent(torrents, content);
        for (int t = 0; t < torrents.Count; t++)
        {
            var meta = TorrentMetainfo.Load(torrents[t]);
            var r = truncated[t];
            Assert.Equal(TorrentCheckStatus.Incomplete, r.Status);
            var file = F(r, 2);
            Assert.Equal(FileCheckStatus.SizeMismatch, file.Status);
            Assert.Equal(60_000, file.SizeOnDisk);
            long from = UnderPiece(meta, Layout[2].Path, 60_000)[Layout[2].Path].Start;
            Assert.Equal(new[] { new ByteRange(from, 100_000 - from) }, file.BadRanges);
            Assert.All(r.Files.Where(x => x != file), x => Assert.Equal(FileCheckStatus.Complete, x.Status));
            // A file sharing the middle file's last piece (v1): its own bytes are there, the piece cannot be checked.
            var sharing = UnderPiece(meta, Layout[2].Path, 99_999).Keys.Where(k => k != Layout[2].Path).ToList();
            Assert.Equal(meta.Version == TorrentVersion.V1, sharing.Count > 0);
            Assert.All(sharing, k => Assert.Contains("could not be checked", r.Files.Single(x => x.RelativePath == k).Detail));
        }

        // Missing: no identity, no ranges; the torrent is Incomplete, not Damaged.
        File.Delete(middle);
        foreach (var r in AssertAgreesWithLibtorrent(torrents, content))
        {
            Assert.Equal(TorrentCheckStatus.Incomplete, r.Status);
            var file = F(r, 2);
            Assert.Equal(FileCheckStatus.Missing, file.Status);
            Assert.Null(file.Identity);
            Assert.Null(file.SizeOnDisk);
            Assert.Null(file.Detail);
            Assert.Empty(file.BadRanges);
            Assert.Equal(file.Pieces, file.PiecesBad);
        }

        // Not regular files: a folder, a FIFO (never opened: this would hang), a symlink to nothing.
        Directory.CreateDirectory(middle);
        File.Delete(second);
        TempTree.Run("mkfifo", second);
        string last = Path.Combine(content, Layout[4].Path);
        string moved = _tree.Path("moved z.bin");
        File.Move(last, moved);
        File.CreateSymbolicLink(last, Path.Combine(content, "nowhere"));
        var broken = await Task.Run(() => Verify(torrents[0], content)).WaitAsync(TimeSpan.FromSeconds(30)); // a hang: a FIFO was opened
        Assert.Equal(TorrentCheckStatus.Incomplete, broken.Status);
        Assert.Equal((FileCheckStatus.Missing, "is a folder"), (F(broken, 2).Status, F(broken, 2).Detail));
        Assert.Equal((FileCheckStatus.Missing, "is a FIFO"), (F(broken, 1).Status, F(broken, 1).Detail));
        Assert.Equal((FileCheckStatus.Missing, "is a symbolic link to nothing"), (F(broken, 4).Status, F(broken, 4).Detail));
        Assert.Equal(FileCheckStatus.Complete, F(broken, 0).Status);
        Assert.DoesNotContain(broken.Files, f => f.Status == FileCheckStatus.Extra); // a FIFO or a folder is no extra file

        // A symlink to the right file elsewhere is read through.
        File.Delete(last);
        File.CreateSymbolicLink(last, moved);
        var through = Verify(torrents[0], content);
        Assert.Equal(FileCheckStatus.Complete, F(through, 4).Status);
        Assert.Equal(FileSystemApiInode(moved), F(through, 4).Identity!.Value.Inode);

        // Nothing there at all.
        var gone = Verify(torrents[0], _tree.Path("not here"));
        Assert.Equal(TorrentCheckStatus.Missing, gone.Status);
        Assert.All(gone.Files, f => Assert.Equal(FileCheckStatus.Missing, f.Status));
        Assert.Equal(0, gone.PiecesGood);
        Assert.Equal(0, gone.BytesRead);
    }

    private static ulong FileSystemApiInode(string path) => Hashall.Core.Platform.FileSystemApi.Lstat(path).Inode;

    [Fact]
    public void NamesWithControlCharactersAreFoundByTheirOwnNameOrByLibtorrents()
    {
        string content = _tree.Path("Lines");
        var random = new Random(3);
        WriteRandom(Path.Combine(content, "line\nbreak.bin"), 30_000, random);
        WriteRandom(Path.Combine(content, "Sub\tdir", "back\\slash \u202Eevil.bin"), 20_000, random);
        WriteRandom(Path.Combine(content, "plain.bin"), 10_000, random);
        string outDir = _tree.Path("line-torrents");
        Directory.CreateDirectory(outDir);
        string small = Path.Combine(outDir, "lines-16384.torrent");
        TempTree.Run(TorrentSamples.Python, "-c", MakeV1Script, content, small, "16384");
        var torrents = new[] { small, TorrentSamples.MkTorrent(content, outDir, 15) };
        foreach (string torrent in torrents)
        {
            var r = Verify(torrent, content);
            Assert.Equal(TorrentCheckStatus.Complete, r.Status);
            Assert.Contains(r.Files, f => f.RelativePath == "line\nbreak.bin" && f.FullPath == Path.Combine(content, "line\nbreak.bin"));
        }
        // Where libtorrent (so qBittorrent) stores them: control characters as '_', no backslash, no direction marks.
        File.Move(Path.Combine(content, "line\nbreak.bin"), Path.Combine(content, "line_break.bin"));
        Directory.Move(Path.Combine(content, "Sub\tdir"), Path.Combine(content, "Sub_dir"));
        File.Move(Path.Combine(content, "Sub_dir", "back\\slash \u202Eevil.bin"), Path.Combine(content, "Sub_dir", "backslash evil.bin"));
        foreach (var r in AssertAgreesWithLibtorrent(torrents, content))
        {
            Assert.Equal(TorrentCheckStatus.Complete, r.Status);
            Assert.Equal(3, r.Files.Count); // no extra files: the renamed ones are the torrent's
            Assert.Contains(r.Files, f => f.RelativePath == "line\nbreak.bin" && f.FullPath == Path.Combine(content, "line_break.bin"));
            Assert.Contains(r.Files, f => f.RelativePath == "Sub\tdir/back\\slash \u202Eevil.bin" && f.FullPath == Path.Combine(content, "Sub_dir", "backslash evil.bin"));
        }
    }

    [Fact]
    public void ExtraFilesAreListedAndSymlinkedFoldersNotFollowed()
    {
        string content = MakeContent("Extras");
        var torrents = MakeTorrents(content);
        File.WriteAllText(Path.Combine(content, "extra one.txt"), "not in the torrent");
        File.WriteAllText(Path.Combine(content, "Sub", "Deep", "new\nfile.nfo"), "nor this");
        string outside = _tree.Path("outside");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "behind a link.bin"), "reached only through a symlinked folder");
        Directory.CreateSymbolicLink(Path.Combine(content, "linked"), outside);
        File.CreateSymbolicLink(Path.Combine(content, "a link.bin"), Path.Combine(outside, "behind a link.bin"));
        foreach (string torrent in torrents)
        {
            var r = Verify(torrent, content);
            Assert.Equal(TorrentCheckStatus.Complete, r.Status);
            var extra = r.Files.Where(f => f.Status == FileCheckStatus.Extra).ToList();
            Assert.Equal(new[] { "Sub/Deep/new\nfile.nfo", "extra one.txt" }, extra.Select(f => f.RelativePath));
            Assert.Equal(18, extra[1].Length);
            Assert.Equal(Path.Combine(content, "extra one.txt"), extra[1].FullPath);
            Assert.Equal(Layout.Length + 2, r.Files.Count);
        }
        // A single-file torrent has no root folder to walk.
        var single = Verify(_samples.V1[3], _samples.SingleFile);
        Assert.Equal(TorrentCheckStatus.Complete, single.Status);
        Assert.Single(single.Files);
    }

    [Fact]
    public void QuickChecksSizesAndTheFirstAndLastPieceOfEachFile()
    {
        string content = MakeContent("Quick");
        var torrents = MakeTorrents(content);
        string middle = Path.Combine(content, Layout[2].Path); // 100,000 bytes: 7 pieces of 16 KiB
        foreach (string torrent in torrents)
        {
            var meta = TorrentMetainfo.Load(torrent);
            var r = Verify(torrent, content, quick: true);
            Assert.True(r.Quick);
            Assert.True(r.Status == TorrentCheckStatus.Complete, $"{torrent}: {string.Join(", ", r.Files.Select(f => $"{f} {string.Join(" ", f.BadRanges)} {f.PiecesChecked}/{f.Pieces}"))}");
            var expected = new HashSet<long>();
            foreach (var f in meta.Files.Where(f => !f.IsPad && f.Length > 0))
            {
                expected.Add(f.Offset / meta.PieceLength);
                expected.Add((f.Offset + f.Length - 1) / meta.PieceLength);
            }
            Assert.Equal(expected.Count, r.PiecesChecked);
            Assert.Equal(r.PiecesChecked, r.PiecesGood);
            if (meta.PieceLength == 16384)
                Assert.True(r.BytesRead < meta.TotalLength, $"{torrent}: read {r.BytesRead}");
        }
        var sixteen = torrents.Where(t => TorrentMetainfo.Load(t).PieceLength == 16384).ToList();
        Assert.Equal(3, sixteen.Count); // v1 (Python), v2, hybrid
        // A flipped byte in the middle of the file (its 4th piece) is not seen; one in its first piece is.
        Flip(middle, 3 * 16384 + 100);
        foreach (string torrent in sixteen)
        {
            var q = Verify(torrent, content, quick: true);
            Assert.True(q.Status == TorrentCheckStatus.Complete, $"{torrent}: {string.Join(", ", q.Files.Select(f => $"{f} {string.Join(" ", f.BadRanges)} {f.PiecesChecked}/{f.Pieces}"))}");
            Assert.Equal(TorrentCheckStatus.Damaged, Verify(torrent, content).Status);
        }
        Flip(middle, 3 * 16384 + 100);
        Flip(middle, 10);
        foreach (string torrent in sixteen)
        {
            var r = Verify(torrent, content, quick: true);
            Assert.Equal(TorrentCheckStatus.Damaged, r.Status);
            Assert.Equal(FileCheckStatus.Damaged, F(r, 2).Status);
            Assert.Equal(1, r.PiecesBad);
        }
        // Sizes of every file: a truncated middle file is found by a quick check.
        Flip(middle, 10);
        using (var f = new FileStream(middle, FileMode.Open))
            f.SetLength(99_999);
        Assert.All(sixteen, t => Assert.Equal(FileCheckStatus.SizeMismatch, F(Verify(t, content, quick: true), 2).Status));
    }

    [Fact]
    public void BigContentCrossesEveryBufferBoundaryAsLibtorrentSays()
    {
        var torrents = new[] { (_big.V1Small, _big.Content), (_big.V1Large, _big.Content), (_big.HybridLarge, _big.Small), (_big.V2Large, _big.Small) };
        Assert.Equal(256 * 1024, TorrentMetainfo.Load(_big.V1Small).PieceLength);
        Assert.True(TorrentMetainfo.Load(_big.V1Large).PieceLength > TorrentVerifier.WholePieceMax);
        foreach (var (torrent, content) in torrents)
        {
            var meta = TorrentMetainfo.Load(torrent);
            var r = Verify(meta, content, out _);
            Assert.True(r.Status == TorrentCheckStatus.Complete, $"{torrent}: {r.Status}");
            Assert.Equal(meta.TotalLength, r.BytesRead);
            Assert.Equal(r.PiecesTotal, r.PiecesGood);
            // Quick: runs of first and last pieces, in chunks when the pieces are large.
            var q = Verify(meta, content, out _, quick: true);
            var firstAndLast = meta.Files.Where(f => !f.IsPad && f.Length > 0)
                .SelectMany(f => new[] { f.Offset / meta.PieceLength, (f.Offset + f.Length - 1) / meta.PieceLength }).Distinct().Count();
            Assert.Equal((TorrentCheckStatus.Complete, firstAndLast, firstAndLast), (q.Status, q.PiecesChecked, q.PiecesGood));
        }
        // Flip bytes at segment and chunk edges (8 MiB, 16 MiB, 24 MiB into the largest files) and check against libtorrent.
        string p19 = Path.Combine(_big.Content, "d1", "part 19.bin"); // 33 MiB + 16 KiB
        string p16 = Path.Combine(_big.Content, "d1", "part 16.bin"); // 40,000,000
        string p08 = Path.Combine(_big.Content, "d2", "part 08.bin"); // 32 MiB - 1
        var flips = new (string Path, long At)[] { (p19, (8L << 20) - 1), (p19, 16L << 20), (p16, (24L << 20) + 1), (p08, (32L << 20) - 2) };
        foreach (var (path, at) in flips)
            Flip(path, at);
        try
        {
            var theirs = Libtorrent(torrents.Select(t => (t.Item1, Path.GetDirectoryName(t.Item2)!)).ToArray());
            for (int t = 0; t < torrents.Length; t++)
            {
                var (torrent, content) = torrents[t];
                var meta = TorrentMetainfo.Load(torrent);
                var r = Verify(meta, content, out var good);
                Assert.True(theirs[t] == Bits(good), $"{torrent}: libtorrent {theirs[t]}, ours {Bits(good)}");
                Assert.Equal(TorrentCheckStatus.Damaged, r.Status);
                foreach (var (path, at) in flips)
                {
                    string rel = Path.GetRelativePath(content, path).Replace('\\', '/');
                    var file = r.Files.FirstOrDefault(f => f.RelativePath == rel);
                    if (file == null)
                        continue; // not in this torrent (the v2 ones hold one folder)
                    Assert.Equal(FileCheckStatus.Damaged, file.Status);
                    Assert.Contains(file.BadRanges, b => b.Start <= at && at < b.End);
                }
            }
        }
        finally
        {
            foreach (var (path, at) in flips)
                Flip(path, at);
        }
    }

    [Fact]
    public void AFileThatShrinksWhileBeingReadIsDamagedFromWhereItEnded()
    {
        string content = _tree.Path("Shrinks");
        var random = new Random(11);
        WriteRandom(Path.Combine(content, "a.bin"), 20_000_000, random);
        WriteRandom(Path.Combine(content, "b.bin"), 30_000_000, random);
        string outDir = _tree.Path("shrink-torrents");
        Directory.CreateDirectory(outDir);
        var meta = TorrentMetainfo.Load(TorrentSamples.MkTorrent(content, outDir, 18));
        string b = Path.Combine(content, "b.bin");
        long read = 0;
        bool cut = false;
        // 8 MiB segments: after the third (to 24 MiB of the stream) b.bin is open and read to byte 5,165,824; then it shrinks.
        Action<long> progress = n =>
        {
            if ((read += n) >= 24L << 20 && !cut)
            {
                cut = true;
                using var f = new FileStream(b, FileMode.Open);
                f.SetLength(4_000_000);
            }
        };
        var r = TorrentVerifier.Verify(meta, content, new TorrentVerifyOptions { ThrottleLimit = 2 }, progress, CancellationToken.None);
        Assert.True(cut);
        Assert.Equal(TorrentCheckStatus.Damaged, r.Status);
        var file = r.Files.Single(f => f.RelativePath == "b.bin");
        Assert.Equal(FileCheckStatus.Damaged, file.Status); // it had its size when it was opened
        Assert.Equal("ended at byte 5165824 while being read (it shrank)", file.Detail);
        Assert.Equal(new[] { new ByteRange(5_165_824, 30_000_000 - 5_165_824) }, file.BadRanges);
        Assert.Equal(FileCheckStatus.Complete, r.Files.Single(f => f.RelativePath == "a.bin").Status);
        Assert.Equal((24L << 20), r.BytesRead);
    }

    [Fact]
    public void CancellingStopsMidReadAndLeavesNoThreads()
    {
        foreach (string torrent in new[] { _big.V1Small, _big.V1Large, _big.HybridLarge })
        {
            var meta = TorrentMetainfo.Load(torrent);
            string content = torrent == _big.HybridLarge ? _big.Small : _big.Content;
            using var cts = new CancellationTokenSource();
            long read = 0;
            var cancelledAt = new Stopwatch();
            Action<long> progress = n =>
            {
                if (Interlocked.Add(ref read, n) > (20L << 20) && !cts.IsCancellationRequested)
                {
                    cancelledAt.Start();
                    cts.Cancel();
                }
            };
            Assert.ThrowsAny<OperationCanceledException>(() =>
                TorrentVerifier.Verify(meta, content, new TorrentVerifyOptions { ThrottleLimit = 3 }, progress, cts.Token));
            Assert.True(cancelledAt.Elapsed < TimeSpan.FromSeconds(10), $"{torrent}: stopped {cancelledAt.Elapsed} after the cancel"); // a hang guard: "read < total" below is the point
            Assert.True(Interlocked.Read(ref read) < meta.TotalLength, "the whole torrent was read");
            Assert.Equal(0, TorrentVerifier.LiveWorkers);
        }
        // Cancelled before it starts.
        Assert.ThrowsAny<OperationCanceledException>(() =>
            TorrentVerifier.Verify(TorrentMetainfo.Load(_big.V1Small), _big.Content, new TorrentVerifyOptions(), null, new CancellationToken(true)));
    }
}
