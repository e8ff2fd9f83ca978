using System.Text.Json;

namespace Hashall.Core.Tests;

/// <summary>
/// Real .torrent files made once per test class: v1 by mktorrent (several piece sizes, one file,
/// nested folders), v2 and hybrid (with pad files) by libtorrent's Python binding, each with what
/// libtorrent itself reads from it (lt.torrent_info), to compare the parser with.
/// </summary>
public sealed class TorrentSamples : IDisposable
{
    public const string Python = "/usr/bin/python3";

    private const string DescribeScript = """
import libtorrent as lt, sys, json
out = []
for path in sys.argv[1:]:
    ti = lt.torrent_info(path, {"max_decode_tokens": 10000000, "max_pieces": 10000000, "max_buffer_size": 100000000})
    fs = ti.files(); h = ti.info_hashes()
    files = []
    for i in range(fs.num_files()):
        files.append({"path": fs.file_path(i), "size": fs.file_size(i), "offset": fs.file_offset(i),
                      "pad": bool(fs.file_flags(i) & lt.file_storage.flag_pad_file), "root": fs.root(i).to_bytes().hex(),
                      "symlink": fs.symlink(i) if fs.file_flags(i) & lt.file_storage.flag_symlink else ""})
    out.append({"path": path, "v1": str(h.v1) if h.has_v1() else "", "v2": str(h.v2) if h.has_v2() else "",
                "pieces": ti.num_pieces(), "piece_length": ti.piece_length(), "name": ti.name(), "private": ti.priv(),
                "trackers": [t.url for t in ti.trackers()], "comment": ti.comment(), "creator": ti.creator(), "files": files})
print(json.dumps(out))
""";

    private const string CreateScript = """
import libtorrent as lt, os, sys
content, out, mode, piece, links = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "links"
fs = lt.file_storage()
lt.add_files(fs, content, flags=lt.create_torrent.symlinks if links else 0)
t = lt.create_torrent(fs, piece, flags=(lt.create_torrent.v2_only if mode == "v2" else 0) | (lt.create_torrent.symlinks if links else 0))
t.add_tracker("http://127.0.0.1:1/announce", 0)
t.add_tracker("http://127.0.0.1:2/announce", 1)
t.set_comment("made by libtorrent for Hashall's tests")
t.set_priv(mode == "hybrid")
lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(content)))
open(out, "wb").write(lt.bencode(t.generate()))
""";

    private readonly TempTree _tree = new();

    public TorrentSamples()
    {
        var random = new Random(20261201);
        // Nested folders, sizes that end on, just before and just after 16 KiB boundaries, an empty file.
        Content = _tree.Path("Show.S01");
        var sizes = new (string Path, int Size)[]
        {
            ("E01.mkv", 300_000), ("E02.mkv", 65_536), ("Extras/behind.mkv", 16_383), ("Extras/Deep/er/notes.txt", 1_234),
            ("Extras/empty.nfo", 0), ("Subs/en.srt", 16_385), ("Subs/fr.srt", 40_000), ("zz/last.bin", 131_073),
        };
        foreach (var (path, size) in sizes)
            WriteRandom(System.IO.Path.Combine(Content, path), size, random);
        SingleFile = _tree.Path("movie.mkv");
        WriteRandom(SingleFile, 1_000_003, random);
        string one = _tree.Path("one");
        WriteRandom(System.IO.Path.Combine(one, "only.bin"), 3_000, random);

        string outDir = _tree.Path("torrents");
        Directory.CreateDirectory(outDir);
        foreach (int exponent in new[] { 15, 16, 18 })
            V1.Add(MkTorrent(Content, outDir, exponent));
        V1.Add(MkTorrent(SingleFile, outDir, 17, "-c", "a comment", "-s", "source-tag"));
        V1.Add(MkTorrent(SingleFile, outDir, 20));
        foreach (int piece in new[] { 16384, 65536 })
        {
            V2.Add(LtTorrent(Content, outDir, "v2", piece));
            Hybrid.Add(LtTorrent(Content, outDir, "hybrid", piece));
        }
        V2.Add(LtTorrent(SingleFile, outDir, "v2", 32768));
        Hybrid.Add(LtTorrent(SingleFile, outDir, "hybrid", 262144));
        V2.Add(LtTorrent(one, outDir, "v2", 16384));
        Hybrid.Add(LtTorrent(one, outDir, "hybrid", 16384));
        // BEP 47 symlinks (attr 'l', 'symlink path'); in the v2 file tree libtorrent gives them no length.
        string links = _tree.Path("links");
        WriteRandom(System.IO.Path.Combine(links, "sub", "target.bin"), 20_000, random);
        File.CreateSymbolicLink(System.IO.Path.Combine(links, "link"), "sub/target.bin");
        V2.Add(LtTorrent(links, outDir, "v2", 16384, symlinks: true));
        Hybrid.Add(LtTorrent(links, outDir, "hybrid", 16384, symlinks: true));

        string json = TempTree.Run(Python, [ "-c", DescribeScript, .. All ]);
        using var doc = JsonDocument.Parse(json);
        foreach (var t in doc.RootElement.EnumerateArray())
            Facts[t.GetProperty("path").GetString()!] = t.Clone();
    }

    public string Content { get; }
    public string SingleFile { get; }
    public List<string> V1 { get; } = new();
    public List<string> V2 { get; } = new();
    public List<string> Hybrid { get; } = new();
    public IEnumerable<string> All => V1.Concat(V2).Concat(Hybrid);

    /// <summary>What libtorrent reads from each sample (JSON, see DescribeScript).</summary>
    public Dictionary<string, JsonElement> Facts { get; } = new();

    public string Root => _tree.Root;

    /// <summary>libtorrent's reading of any .torrent file.</summary>
    public static JsonElement Describe(string torrent)
    {
        using var doc = JsonDocument.Parse(TempTree.Run(Python, "-c", DescribeScript, torrent));
        return doc.RootElement[0].Clone();
    }

    public static string MkTorrent(string content, string outDir, int exponent, params string[] extra)
    {
        string torrent = System.IO.Path.Combine(outDir, $"{System.IO.Path.GetFileName(content)}-v1-{exponent}{(extra.Length > 0 ? "-x" : "")}.torrent");
        TempTree.Run("mktorrent", [ "-l", exponent.ToString(), "-a", "http://127.0.0.1:1/announce", .. extra, "-o", torrent, content ]);
        return torrent;
    }

    public static string LtTorrent(string content, string outDir, string mode, int piece, bool symlinks = false)
    {
        string torrent = System.IO.Path.Combine(outDir, $"{System.IO.Path.GetFileName(content)}-{mode}-{piece}.torrent");
        TempTree.Run(Python, "-c", CreateScript, content, torrent, mode, piece.ToString(), symlinks ? "links" : "");
        return torrent;
    }

    private static void WriteRandom(string path, int size, Random random)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var bytes = new byte[size];
        random.NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
    }

    public void Dispose() => _tree.Dispose();
}
