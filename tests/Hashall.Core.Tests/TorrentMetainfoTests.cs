using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hashall.Core.Torrents;

namespace Hashall.Core.Tests;

/// <summary>The .torrent parser against real torrents (mktorrent, libtorrent) and what libtorrent reads from them.</summary>
public sealed class TorrentMetainfoTests : IClassFixture<TorrentSamples>
{
    private readonly TorrentSamples _samples;

    public TorrentMetainfoTests(TorrentSamples samples) => _samples = samples;

    [Fact]
    public void EverySampleMatchesLibtorrent()
    {
        Assert.Equal(5, _samples.V1.Count);
        foreach (string torrent in _samples.All)
        {
            var meta = TorrentMetainfo.Load(torrent);
            AssertMatches(_samples.Facts[torrent], meta, torrent);
            TorrentChecks.AssertConsistent(meta);
        }
    }

    [Fact]
    public void VersionsPadFilesAndPieceLayers()
    {
        foreach (string t in _samples.V1)
        {
            var m = TorrentMetainfo.Load(t);
            Assert.Equal(TorrentVersion.V1, m.Version);
            Assert.Null(m.InfoHashV2);
            Assert.Equal(m.InfoHashV1Hex, m.Hash);
            Assert.Equal(Bencode.InfoHash(File.ReadAllBytes(t)), m.Hash); // the tests' own minimal reader agrees
            Assert.All(m.Files, f => Assert.Null(f.PiecesRoot));
        }
        var v1Multi = TorrentMetainfo.Load(_samples.V1[0]);
        Assert.False(v1Multi.IsSingleFile);
        Assert.Equal("Show.S01", v1Multi.Name);
        Assert.Contains(v1Multi.Files, f => f.RelativePath == "Extras/Deep/er/notes.txt" && f.Length == 1_234);
        Assert.Contains(v1Multi.Files, f => f.RelativePath == "Extras/empty.nfo" && f.Length == 0);
        Assert.Equal(1L << 15, v1Multi.PieceLength);
        Assert.Equal(570_611, v1Multi.TotalLength);

        var single = TorrentMetainfo.Load(_samples.V1[3]);
        Assert.True(single.IsSingleFile);
        Assert.Equal("movie.mkv", Assert.Single(single.Files).RelativePath);
        Assert.Equal("a comment", single.Comment);
        Assert.StartsWith("mktorrent", single.CreatedBy);
        Assert.Equal("http://127.0.0.1:1/announce", single.AnnounceList.Single().Single());

        var hybrid = TorrentMetainfo.Load(_samples.Hybrid[0]);
        Assert.Equal(TorrentVersion.Hybrid, hybrid.Version);
        Assert.True(hybrid.IsPrivate);
        Assert.Contains(hybrid.Files, f => f.IsPad);
        Assert.Equal(hybrid.Hash, hybrid.InfoHashV2Hex[..40]);
        Assert.Equal(new[] { "http://127.0.0.1:1/announce", "http://127.0.0.1:2/announce" }, hybrid.AnnounceList.Select(tier => tier.Single()));
        foreach (var f in hybrid.Files.Where(f => !f.IsPad && f.Length > 0))
        {
            Assert.Equal(0, f.Offset % hybrid.PieceLength);
            Assert.NotNull(f.PiecesRoot);
            Assert.Equal(f.Length > hybrid.PieceLength, f.PieceLayer != null);
        }
        // A v1 piece hash is the SHA-1 of the data: the first piece of the first file (300,000 bytes, piece 16 KiB).
        byte[] first = File.ReadAllBytes(Path.Combine(_samples.Content, "E01.mkv"))[..16384];
        Assert.Equal(SHA1.HashData(first), hybrid.PieceHash(0));
        // A v2 piece layer entry is the SHA-256 merkle root of the piece's 16 KiB blocks: one block per piece here.
        var e01 = hybrid.Files.First(f => f.RelativePath == "E01.mkv");
        Assert.Equal(SHA256.HashData(first), e01.PieceLayer![..32]);

        foreach (string t in new[] { _samples.V2[^1], _samples.Hybrid[^1] })
        {
            var link = TorrentMetainfo.Load(t).Files.Single(f => f.RelativePath == "link");
            Assert.Equal(new[] { "sub", "target.bin" }, link.SymlinkPath);
            Assert.Equal(0, link.Length);
            Assert.Null(link.PiecesRoot);
        }

        var v2 = TorrentMetainfo.Load(_samples.V2[0]);
        Assert.Equal(TorrentVersion.V2, v2.Version);
        Assert.Null(v2.InfoHashV1);
        Assert.Null(v2.PieceHashes);
        Assert.DoesNotContain(v2.Files, f => f.IsPad);
        Assert.Equal(64, v2.InfoHashV2Hex.Length);
        byte[] bytes = File.ReadAllBytes(_samples.V2[0]);
        Assert.Equal(SHA256.HashData(bytes.AsSpan(v2.InfoOffset, v2.InfoLength)), v2.InfoHashV2);
    }

    /// <summary>qBittorrent's own ids for the samples: hash, infohash_v1, infohash_v2 of torrents/info.</summary>
    [RequiresFact(Needs.QBittorrent)]
    public void InfoHashesMatchQBittorrent()
    {
        using var qbt = new QBittorrentFixture();
        string savePath = _samples.Root;
        var picks = new[] { _samples.V1[0], _samples.V1[3], _samples.V2[0], _samples.V2[2], _samples.Hybrid[0], _samples.Hybrid[2], _samples.Hybrid[^1] };
        foreach (string torrent in picks)
        {
            var meta = TorrentMetainfo.Load(torrent);
            qbt.Add(torrent, meta.Hash, savePath); // waits for the torrent under this id: a wrong Hash times out
            var ids = qbt.Ids(meta.Hash);
            Assert.NotNull(ids);
            Assert.Equal((meta.Hash, meta.InfoHashV1Hex, meta.InfoHashV2Hex), ids.Value);
            Assert.Equal(1.0, qbt.Info(meta.Hash)!.Value.Progress); // the data checked out against the same files
        }
    }

    [Fact]
    public void LargeGeneratedTorrentParsesFast()
    {
        // 100,000 files in 100 folders, made by libtorrent (v1: its Python binding cannot set v2 hashes without the data) with arbitrary piece hashes.
        string torrent = Path.Combine(_samples.Root, "large.torrent");
        TempTree.Run(TorrentSamples.Python, "-c", """
import libtorrent as lt, sys, hashlib
fs = lt.file_storage()
n = 100000
for i in range(n):
    fs.add_file("Large/d%03d/f%05d.bin" % (i // 1000, i), 1000 + (i * 7919) % 15000)
t = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)
for p in range(t.num_pieces()):
    t.set_hash(p, hashlib.sha1(b"%d" % p).digest())
open(sys.argv[1], "wb").write(lt.bencode(t.generate()))
""", torrent);
        byte[] data = File.ReadAllBytes(torrent);
        TorrentMetainfo.Parse(data); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        TorrentMetainfo meta = null!;
        var cpu = ThreadCpu.Of(() => meta = TorrentMetainfo.Parse(data, torrent));
        watch.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(100_000, meta.Files.Count);
        AssertMatches(TorrentSamples.Describe(torrent), meta, torrent);
        TorrentChecks.AssertConsistent(meta);
        // CPU time of the parsing thread, not wall-clock: other test classes and the hosted-engine tests share the cores.
        Assert.True(cpu < TimeSpan.FromSeconds(5), $"parsing {data.Length} bytes took {cpu} of CPU ({watch.Elapsed} wall-clock)");
        Assert.True(allocated < 20L * data.Length, $"parsing {data.Length} bytes allocated {allocated}");
        Console.WriteLine($"large torrent: {data.Length} bytes, {meta.Files.Count} files, parsed in {watch.ElapsedMilliseconds} ms ({cpu.TotalMilliseconds:F0} ms CPU of the parsing thread), {allocated / 1048576} MiB allocated");
    }

    /// <summary>The parser's reading of a torrent equals libtorrent's (files, offsets, pad flags, roots, pieces, ids, trackers).</summary>
    internal static void AssertMatches(JsonElement lt, TorrentMetainfo meta, string what)
    {
        Assert.True(lt.GetProperty("v1").GetString() == meta.InfoHashV1Hex, $"{what}: v1 {meta.InfoHashV1Hex} vs {lt.GetProperty("v1")}");
        Assert.True(lt.GetProperty("v2").GetString() == meta.InfoHashV2Hex, $"{what}: v2 {meta.InfoHashV2Hex} vs {lt.GetProperty("v2")}");
        Assert.Equal(lt.GetProperty("pieces").GetInt32(), meta.PieceCount);
        Assert.Equal(lt.GetProperty("piece_length").GetInt64(), meta.PieceLength);
        Assert.Equal(lt.GetProperty("private").GetBoolean(), meta.IsPrivate);
        Assert.Equal(lt.GetProperty("comment").GetString(), meta.Comment ?? "");
        Assert.Equal(lt.GetProperty("creator").GetString(), meta.CreatedBy ?? "");
        Assert.Equal(lt.GetProperty("trackers").EnumerateArray().Select(t => t.GetString()), meta.AnnounceList.SelectMany(tier => tier));
        // libtorrent names a v2-only torrent whose tree holds one file at its top after that file.
        string name = meta.Version == TorrentVersion.V2 && meta.IsSingleFile ? meta.Files[0].Path[0] : meta.Name;
        Assert.Equal(lt.GetProperty("name").GetString(), name);
        // libtorrent lists v2-only torrents with pad files it adds itself to align files; those are not in the metainfo.
        var ltFiles = lt.GetProperty("files").EnumerateArray()
            .Where(f => meta.Version != TorrentVersion.V2 || !f.GetProperty("pad").GetBoolean()).ToList();
        Assert.Equal(ltFiles.Count, meta.Files.Count);
        for (int i = 0; i < ltFiles.Count; i++)
        {
            var l = ltFiles[i];
            var f = meta.Files[i];
            string path = meta.IsSingleFile ? f.RelativePath : meta.Name + "/" + f.RelativePath;
            Assert.Equal(l.GetProperty("path").GetString(), path);
            Assert.Equal(l.GetProperty("size").GetInt64(), f.Length);
            Assert.Equal(l.GetProperty("offset").GetInt64(), f.Offset);
            Assert.Equal(l.GetProperty("pad").GetBoolean(), f.IsPad);
            Assert.Equal(l.GetProperty("root").GetString(), f.PiecesRoot == null ? new string('0', 64) : Convert.ToHexString(f.PiecesRoot).ToLowerInvariant());
            string target = f.SymlinkPath == null ? "" : string.Join("/", f.SymlinkPath);
            Assert.Equal(l.GetProperty("symlink").GetString(), target.Length == 0 || meta.IsSingleFile ? target : meta.Name + "/" + target);
        }
    }
}

/// <summary>What any successfully parsed torrent must satisfy.</summary>
internal static class TorrentChecks
{
    public static void AssertConsistent(TorrentMetainfo m)
    {
        Assert.NotEmpty(m.Files);
        Assert.True(m.PieceLength > 0);
        Assert.Equal(40, m.Hash.Length);
        Assert.Equal(m.Version != TorrentVersion.V2, m.InfoHashV1 != null);
        Assert.Equal(m.Version != TorrentVersion.V1, m.InfoHashV2 != null);
        long offset = 0, content = 0;
        foreach (var f in m.Files)
        {
            Assert.True(f.Length >= 0);
            Assert.NotEmpty(f.Path);
            foreach (string c in f.Path)
                Assert.True(c.Length > 0 && c != "." && c != ".." && c.IndexOf('/') < 0 && c.IndexOf('\0') < 0, $"bad component '{c}'");
            if (m.Version == TorrentVersion.V2)
                Assert.True(f.Offset >= offset && f.Offset % m.PieceLength == 0);
            else
                Assert.Equal(offset, f.Offset);
            offset = m.Version == TorrentVersion.V2 ? f.Offset + f.Length : offset + f.Length;
            if (!f.IsPad)
                content += f.Length;
            if (m.Version != TorrentVersion.V1 && !f.IsPad && f.Length > 0 && f.SymlinkPath == null)
            {
                Assert.Equal(32, f.PiecesRoot!.Length);
                long pieces = (f.Length + m.PieceLength - 1) / m.PieceLength;
                if (pieces > 1)
                    Assert.Equal(pieces * 32, f.PieceLayer!.Length);
            }
        }
        Assert.Equal(content, m.TotalLength);
        if (m.Version != TorrentVersion.V2)
        {
            Assert.Equal(offset, m.PieceStreamLength);
            Assert.Equal(m.PieceCount * 20, m.PieceHashes!.Length);
            Assert.Equal((m.PieceStreamLength + m.PieceLength - 1) / m.PieceLength, m.PieceCount);
        }
        if (m.IsSingleFile)
            Assert.Single(m.Files);
        Assert.True(m.InfoOffset > 0 && m.InfoLength >= 2);
    }
}
