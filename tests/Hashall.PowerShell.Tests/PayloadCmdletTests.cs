using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>Sync-HashallPayload and the payload queries against a real qbittorrent-nox on loopback.</summary>
public sealed class PayloadCmdletTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly string _torrents;

    public PayloadCmdletTests(QBittorrentFixture qbt)
    {
        _qbt = qbt;
        _torrents = Tree.Path("torrents");
        Directory.CreateDirectory(_torrents);
    }

    /// <summary>
    /// The payload hash as the specification words it, written independently of the module: sort by
    /// the UTF-8 bytes of the path (= code point order), then size, then sha1.
    /// </summary>
    private static string ExpectedPayloadHash(IEnumerable<(string Path, byte[] Content)> files)
    {
        var rows = files.Select(f => (Bytes: Encoding.UTF8.GetBytes(f.Path), f.Path, Size: (long)f.Content.Length,
                Sha1: Convert.ToHexString(SHA1.HashData(f.Content)).ToLowerInvariant()))
            .OrderBy(r => r.Bytes, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)))
            .ThenBy(r => r.Size).ThenBy(r => r.Sha1, StringComparer.Ordinal);
        var text = string.Concat(rows.Select(r => $"{r.Path}|{r.Size}|{r.Sha1}\n"));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
    }

    /// <summary>A season folder; Files are named relative to it (the payload root), its own name left out.</summary>
    private (string Dir, List<(string Path, byte[] Content)> Files) Season(string name, int seed)
    {
        // U+FB01 sorts after the emoji in UTF-16 (its surrogates start at 0xD83D) but before it by code point.
        var files = new List<(string, byte[])>
        {
            ("ep01.mkv", Bytes(70_000, seed)),
            ("Subs/\uFB01rst.srt", Bytes(900, seed + 1)),
            ("Subs/😀.srt", Bytes(800, seed + 2)),
        };
        foreach (var (rel, content) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(Data, name, rel))!);
            File.WriteAllBytes(Path.Combine(Data, name, rel), content);
        }
        return (Path.Combine(Data, name), files);
    }

    /// <summary>
    /// The SPEC's payload hash of a file or directory on disk, by a separate implementation: Python's
    /// hashlib over the rows it walks itself (paths relative to the root, the root's own name left out; a
    /// file's is its name), sorted as Python sorts str tuples (by code point).
    /// </summary>
    private static string ReferencePayloadHash(string root) => TempTree.Run("/usr/bin/python3", "-X", "utf8", "-c", """
import hashlib, os, sys
root = sys.argv[1]
rows = []
if os.path.isfile(root):
    rows.append((os.path.basename(root), root))
else:
    for d, _, names in os.walk(root):
        for n in names:
            rows.append((os.path.relpath(os.path.join(d, n), root), os.path.join(d, n)))
lines = sorted((rel, os.path.getsize(full), hashlib.sha1(open(full, "rb").read()).hexdigest()) for rel, full in rows)
print(hashlib.sha256("".join(f"{r}|{s}|{h}\n" for r, s, h in lines).encode("utf-8")).hexdigest())
""", root).Trim();

    private static byte[] Bytes(int size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }

    private RunResult Sync(string arguments = "") =>
        Ps.Run($"Sync-HashallPayload -Uri $args[0] {arguments}", _qbt.Url);

    [RequiresFact(Needs.QBittorrent)]
    public void SiblingsShareAPayloadHashThatMatchesTheSpecification()
    {
        var (season, files) = Season("Show.S01", 1);
        var copy = Path.Combine(Data, "Show.S01.Renamed");
        TempTree.Run("cp", "-a", season, copy);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();

        var a = QBittorrentFixture.MakeTorrent(season, _torrents, 15);
        var b = QBittorrentFixture.MakeTorrent(season, _torrents, 16); // same content, other piece size: another infohash
        var c = QBittorrentFixture.MakeTorrent(copy, _torrents, 15);   // same files under another folder name
        var single = QBittorrentFixture.MakeTorrent(Path.Combine(season, "ep01.mkv"), _torrents, 15);
        Assert.NotEqual(a.Hash, b.Hash);
        _qbt.Add(a.Torrent, a.Hash, Data, category: "siblings");
        _qbt.Add(b.Torrent, b.Hash, Data, category: "siblings");
        _qbt.Add(c.Torrent, c.Hash, Data, category: "siblings");
        _qbt.Add(single.Torrent, single.Hash, season, category: "siblings");

        var result = Sync("-Category siblings").Succeeded().Output.Single();
        Assert.Equal(4, Long(result, "Torrents"));
        Assert.Equal(4, Long(result, "Complete"));
        Assert.Equal(4, Long(result, "Added"));
        Assert.Equal(1, Long(result, "SiblingGroups")); // a, b and c

        string expected = ExpectedPayloadHash(files);
        Assert.Equal(ReferencePayloadHash(season), expected);
        var ta = Ps.Run("Get-HashallTorrent $args[0]", a.Hash).Succeeded().Output.Single();
        Assert.Equal(expected, ta.Properties["PayloadHash"].Value);
        Assert.Equal("complete", ta.Properties["PayloadStatus"].Value);
        Assert.Equal(expected, Ps.Run("(Get-HashallTorrent $args[0]).PayloadHash", b.Hash).Succeeded().Output.Single().BaseObject);
        // The same files under another root folder name are the same payload: paths are relative to the root.
        Assert.Equal(expected, Ps.Run("(Get-HashallTorrent $args[0]).PayloadHash", c.Hash).Succeeded().Output.Single().BaseObject);
        // A single-file payload's path is the file name.
        Assert.Equal(ExpectedPayloadHash(new[] { ("ep01.mkv", files[0].Content) }), Ps.Run("(Get-HashallTorrent $args[0]).PayloadHash", single.Hash).Succeeded().Output.Single().BaseObject);

        // Pipeline by property name: torrent objects into Get-HashallSibling.
        var siblings = Ps.Run("Get-HashallTorrent $args[0] | Get-HashallSibling | ForEach-Object TorrentHash", a.Hash).Succeeded().Output.Select(o => (string)o.BaseObject);
        Assert.Equal(new[] { b.Hash, c.Hash }.Order(), siblings.Order());
        var byPayload = Ps.Run("Get-HashallPayload -TorrentHash $args[0] | Get-HashallSibling", a.Hash).Succeeded().Output;
        Assert.Equal(3, byPayload.Count); // every torrent with the payload: a, b and c

        // Torrent hashes complete by part of the name.
        var completed = Ps.Run(@"
$line = ""Get-HashallSibling -Database '$($args[0])' -TorrentHash ep01""
(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText", Db).Succeeded();
        Assert.Equal([single.Hash], completed.Output.Select(o => (string)o.BaseObject));

        // The payload of a directory, without a torrent, is the same hash; it pipes into the torrent queries.
        Assert.Equal(expected, Ps.Run("(Get-HashallPayload -Path $args[0]).PayloadHash", season).Succeeded().Output.Single().BaseObject);
        var ofDirectory = Ps.Run("Get-HashallPayload -Path $args[0] | Get-HashallTorrent | ForEach-Object TorrentHash", season).Succeeded().Output.Select(o => (string)o.BaseObject).Order();
        Assert.Equal(new[] { a.Hash, b.Hash, c.Hash }.Order(), ofDirectory);
        Assert.Equal(3, Ps.Run("Get-HashallPayload -Path $args[0] | Get-HashallSibling", season).Succeeded().Output.Count);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void PayloadHashesAreRelativeToTheRootAsAnIndependentImplementationComputesThem()
    {
        // Nested folders with names beyond the BMP, a single file, a single file inside a folder.
        var nested = Path.Combine(Data, "Nested.S01");
        Write("Nested.S01/a/b/c/deep.bin", 3000, 1);
        Write("Nested.S01/😀/\uFB01le.srt", 500, 2);
        Write("Nested.S01/\uFB01.txt", 400, 3);
        Write("Nested.S01/😀.txt", 300, 4);
        Write("Nested.S01/𝄞 score/z.mkv", 20_000, 5);
        Write("Nested.S01/a.mkv", 10_000, 6);
        var renamed = Path.Combine(Data, "Nested S01 WEB");
        TempTree.Run("cp", "-a", nested, renamed);
        string alone = Write("Alone.😀.bin", 7000, 7);
        string wrapped = Path.Combine(Data, "Wrapped");
        string inside = Write("Wrapped/only.bin", 6000, 8);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();

        var tNested = QBittorrentFixture.MakeTorrent(nested, _torrents, 15);
        var tRenamed = QBittorrentFixture.MakeTorrent(renamed, _torrents, 15);
        var tAlone = QBittorrentFixture.MakeTorrent(alone, _torrents, 15);
        var tWrapped = QBittorrentFixture.MakeTorrent(wrapped, _torrents, 15);
        foreach (var t in new[] { tNested, tRenamed, tAlone, tWrapped })
            _qbt.Add(t.Torrent, t.Hash, Data, category: "relative");
        Assert.Equal(4, Long(Sync("-Category relative").Succeeded().Output.Single(), "Complete"));

        string HashOf(string torrent) => (string)Ps.Run("(Get-HashallTorrent $args[0]).PayloadHash", torrent).Succeeded().Output.Single().BaseObject;
        string PathHash(string path) => (string)Ps.Run("(Get-HashallPayload -Path $args[0]).PayloadHash", path).Succeeded().Output.Single().BaseObject;
        string nestedRef = ReferencePayloadHash(nested);
        Assert.Equal(nestedRef, HashOf(tNested.Hash));
        Assert.Equal(nestedRef, HashOf(tRenamed.Hash));
        Assert.Equal(nestedRef, PathHash(nested));
        Assert.Equal(nestedRef, PathHash(renamed));
        Assert.Equal(ReferencePayloadHash(alone), HashOf(tAlone.Hash));
        Assert.Equal(ReferencePayloadHash(alone), PathHash(alone));
        // One file in a folder: the torrent's path is the file name, and so is the folder's.
        string insideRef = ReferencePayloadHash(inside);
        Assert.Equal(insideRef, ReferencePayloadHash(wrapped));
        Assert.Equal(insideRef, HashOf(tWrapped.Hash));
        Assert.Equal(insideRef, PathHash(wrapped));
        Assert.Equal(insideRef, PathHash(inside));
        Assert.Equal([tRenamed.Hash], Ps.Run("Get-HashallSibling $args[0] | ForEach-Object TorrentHash", tNested.Hash).Succeeded().Output.Select(o => (string)o.BaseObject));
    }

    /// <summary>The SPEC's content hash of a file or directory on disk, by Python: sorted "{size}|{sha1}" lines, names ignored.</summary>
    private static string ReferenceContentHash(string root) => TempTree.Run("/usr/bin/python3", "-X", "utf8", "-c", """
import hashlib, os, sys
root = sys.argv[1]
paths = [root] if os.path.isfile(root) else [os.path.join(d, n) for d, _, names in os.walk(root) for n in names]
lines = sorted(f"{os.path.getsize(p)}|{hashlib.sha1(open(p, 'rb').read()).hexdigest()}\n" for p in paths)
print(hashlib.sha256("".join(lines).encode("utf-8")).hexdigest())
""", root).Trim();

    [RequiresFact(Needs.QBittorrent)]
    public void ContentTwinsAreFoundWhateverTheNamesAndSiblingsKeepTheSeedsMeaning()
    {
        var (season, files) = Season("Twin.S01", 90);
        string rootRenamed = Path.Combine(Data, "Twin S01 WEB");
        TempTree.Run("cp", "-a", season, rootRenamed);
        // The same bytes with every file renamed, and in other folders.
        string episodes = Path.Combine(Data, "Twin.Season.1");
        Directory.CreateDirectory(Path.Combine(episodes, "subtitles"));
        File.WriteAllBytes(Path.Combine(episodes, "Twin.S01E01.mkv"), files[0].Content);
        File.WriteAllBytes(Path.Combine(episodes, "subtitles", "fr.srt"), files[1].Content);
        File.WriteAllBytes(Path.Combine(episodes, "en.srt"), files[2].Content);
        // Not a twin: the same names and sizes, one byte different.
        string almost = Path.Combine(Data, "Twin.Almost");
        TempTree.Run("cp", "-a", season, almost);
        var changed = (byte[])files[0].Content.Clone();
        changed[100] ^= 1;
        File.WriteAllBytes(Path.Combine(almost, "ep01.mkv"), changed);
        // A one-file folder torrent and a single-file torrent of the same bytes under another name.
        string movieDir = Path.Combine(Data, "Film.Folder");
        string movie = Write("Film.Folder/film.mkv", 30_000, 91);
        string single = Path.Combine(Data, "Film (Single).mkv");
        File.Copy(movie, single);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();

        var tSeason = QBittorrentFixture.MakeTorrent(season, _torrents, 15);
        var tRoot = QBittorrentFixture.MakeTorrent(rootRenamed, _torrents, 16);
        var tEpisodes = QBittorrentFixture.MakeTorrent(episodes, _torrents, 15);
        var tAlmost = QBittorrentFixture.MakeTorrent(almost, _torrents, 15);
        var tFolder = QBittorrentFixture.MakeTorrent(movieDir, _torrents, 15);
        var tSingle = QBittorrentFixture.MakeTorrent(single, _torrents, 15);
        foreach (var t in new[] { tSeason, tRoot, tEpisodes, tAlmost, tFolder, tSingle })
            _qbt.Add(t.Torrent, t.Hash, Data, category: "twins");
        Assert.Equal(6, Long(Sync("-Category twins").Succeeded().Output.Single(), "Complete"));

        List<string> Names(string script, params object[] args) =>
            Ps.Run(script + " | ForEach-Object Name", args).Succeeded().Output.Select(o => (string)o.BaseObject).Order(StringComparer.Ordinal).ToList();
        string contentRef = ReferenceContentHash(season);
        Assert.Equal(contentRef, ReferenceContentHash(episodes));
        Assert.NotEqual(contentRef, ReferenceContentHash(almost));
        var torrent = Ps.Run("Get-HashallTorrent $args[0]", tSeason.Hash).Succeeded().Output.Single();
        Assert.Equal(contentRef, torrent.Properties["ContentHash"].Value);
        var payload = Ps.Run("Get-HashallPayload -TorrentHash $args[0]", tEpisodes.Hash).Succeeded().Output.Single();
        Assert.Equal(contentRef, payload.Properties["ContentHash"].Value);
        Assert.Equal(ReferencePayloadHash(episodes), payload.Properties["PayloadHash"].Value);

        // Siblings keep the seed's meaning: the renamed root is one, renamed files are not.
        Assert.Equal(["Twin S01 WEB"], Names("Get-HashallSibling $args[0]", tSeason.Hash));
        // Content twins: whatever the names; the almost-equal season is neither.
        Assert.Equal(["Twin S01 WEB", "Twin.Season.1"], Names("Get-HashallSibling $args[0] -Content", tSeason.Hash));
        Assert.Equal(["Twin S01 WEB", "Twin.S01"], Names("Get-HashallTorrent $args[0] | Get-HashallSibling -Content", tEpisodes.Hash));
        Assert.Empty(Names("Get-HashallSibling $args[0] -Content", tAlmost.Hash));
        Assert.Equal(["Twin S01 WEB", "Twin.S01", "Twin.Season.1"], Names("Get-HashallSibling -ContentHash $args[0]", contentRef));
        // A payload computed for a directory pipes its content hash; a bare payload hash finds it in the catalog.
        Assert.Equal(["Twin S01 WEB", "Twin.S01", "Twin.Season.1"], Names("Get-HashallPayload -Path $args[0] | Get-HashallSibling -Content", episodes));
        Assert.Equal(["Twin S01 WEB", "Twin.S01", "Twin.Season.1"], Names("Get-HashallSibling -PayloadHash $args[0] -Content", ReferencePayloadHash(season)));
        Assert.Equal(["Twin S01 WEB", "Twin.S01"], Names("Get-HashallSibling -PayloadHash $args[0]", ReferencePayloadHash(season)));

        // The single-file torrent twins the one-file folder torrent (other name), but is not its sibling.
        Assert.Empty(Names("Get-HashallSibling $args[0]", tFolder.Hash));
        Assert.Equal(["Film (Single).mkv"], Names("Get-HashallSibling $args[0] -Content", tFolder.Hash));
        Assert.Equal(ReferenceContentHash(movie), Ps.Run("(Get-HashallTorrent $args[0]).ContentHash", tSingle.Hash).Succeeded().Output.Single().BaseObject);

        // Get-HashallPayload and Get-HashallTorrent filter on either hash.
        Assert.Equal(3, Ps.Run("Get-HashallPayload -ContentHash $args[0]", contentRef.ToUpperInvariant()).Succeeded().Output.Count);
        Assert.Equal(2, Ps.Run("Get-HashallPayload -PayloadHash $args[0]", ReferencePayloadHash(season)).Succeeded().Output.Count);
        Assert.Equal(2, Ps.Run("Get-HashallPayload -ContentHash $args[0]", ReferenceContentHash(movie)).Succeeded().Output.Count);
        Assert.Equal(["Film (Single).mkv", "Film.Folder"], Names("Get-HashallTorrent -ContentHash $args[0]", ReferenceContentHash(movie)));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AHybridV1V2TorrentIsASiblingOfTheV1TorrentOfTheSameFolder()
    {
        var (season, files) = Season("Hybrid.S01", 60);
        Ps.Run("Invoke-HashallScan $args[0]", season).Succeeded();
        var v1 = QBittorrentFixture.MakeTorrent(season, _torrents, 15);
        var hybrid = QBittorrentFixture.MakeHybridTorrent(season, _torrents);
        _qbt.Add(v1.Torrent, v1.Hash, Data, category: "hybrid");
        _qbt.Add(hybrid.Torrent, hybrid.Hash, Data, category: "hybrid");

        var result = Sync("-Category hybrid").Succeeded().Output.Single();
        Assert.Equal(2, Long(result, "Complete"));
        var t = Ps.Run("Get-HashallTorrent $args[0]", hybrid.Hash).Succeeded().Output.Single();
        Assert.Equal(hybrid.V1, t.Properties["InfohashV1"].Value);
        Assert.Equal(hybrid.V2, t.Properties["InfohashV2"].Value);
        // The v2 infohash finds it too; pad files of the hybrid's v1 part are not payload files.
        Assert.Single(Ps.Run("Get-HashallTorrent $args[0]", hybrid.V2).Succeeded().Output);
        Assert.Equal(ExpectedPayloadHash(files), t.Properties["PayloadHash"].Value);
        Assert.Equal([v1.Hash], Ps.Run("Get-HashallSibling $args[0] | ForEach-Object TorrentHash", hybrid.Hash).Succeeded().Output.Select(o => (string)o.BaseObject));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AnIncompletePayloadSaysWhichFilesToScan()
    {
        var (season, _) = Season("Missing.S01", 10);
        var torrent = QBittorrentFixture.MakeTorrent(season, _torrents, 15);
        Ps.Run("Invoke-HashallScan $args[0]", Path.Combine(season, "Subs")).Succeeded(); // ep01.mkv never scanned
        var unscanned = Season("Unscanned.S01", 20);
        var other = QBittorrentFixture.MakeTorrent(unscanned.Dir, _torrents, 15);
        Directory.Delete(unscanned.Dir, recursive: true); // its data is not on disk at all
        _qbt.Add(torrent.Torrent, torrent.Hash, Data, category: "incomplete");
        _qbt.Add(other.Torrent, other.Hash, Data, category: "incomplete");

        var result = Sync("-Category incomplete").Succeeded().Output.Single();
        Assert.Equal(2, Long(result, "Incomplete"));
        var payload = Ps.Run("Get-HashallPayload -TorrentHash $args[0]", torrent.Hash).Succeeded().Output.Single();
        Assert.Equal("incomplete", payload.Properties["Status"].Value);
        Assert.Null(payload.Properties["PayloadHash"].Value);
        var missing = ((System.Collections.IEnumerable)payload.Properties["MissingFiles"].Value).Cast<object>().Select(o => o.ToString()!).ToList();
        Assert.Equal([Path.Combine(season, "ep01.mkv") + ": not in the catalog (scan it)"], missing);
        Assert.Equal(2, Ps.Run("Get-HashallPayload -Status incomplete").Succeeded().Output.Count);
        var sibling = Ps.Run("Get-HashallSibling -TorrentHash $args[0] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId", torrent.Hash);
        Assert.Equal("PayloadIncomplete,Hashall.PowerShell.Payloads.GetHashallSiblingCommand", sibling.Output.Single().BaseObject);

        // Scanning what it names completes it.
        Ps.Run("Invoke-HashallScan $args[0]", season).Succeeded();
        Sync("-Category incomplete").Succeeded();
        Assert.Equal("complete", Ps.Run("(Get-HashallPayload -TorrentHash $args[0]).Status", torrent.Hash).Succeeded().Output.Single().BaseObject);
        Assert.Single(Ps.Run("Get-HashallPayload -Status incomplete").Succeeded().Output); // the old row went with it; only the data-less one is left
    }

    [RequiresFact(Needs.QBittorrent)]
    public void CategoryAndTagFiltersGoneTorrentsAndWhatIf()
    {
        var one = Season("Tagged.S01", 30);
        var two = Season("Untagged.S01", 40);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        var t1 = QBittorrentFixture.MakeTorrent(one.Dir, _torrents, 15);
        var t2 = QBittorrentFixture.MakeTorrent(two.Dir, _torrents, 15);
        _qbt.Add(t1.Torrent, t1.Hash, Data, category: "filters", tags: "keep, tv");
        _qbt.Add(t2.Torrent, t2.Hash, Data, category: "filters");

        var preview = Sync("-Category filters -WhatIf").Succeeded();
        Assert.Equal(2, Long(preview.Output.Single(), "Torrents"));
        Assert.Contains("What if: Performing the operation \"Record the torrents of qBittorrent", preview.HostText);
        Assert.Empty(Ps.Run("Get-HashallTorrent").Succeeded().Output);
        // On a new setup -WhatIf does not even create the catalog.
        string fresh = Tree.Path("fresh.db");
        Assert.Equal(2, Long(Ps.Run("Sync-HashallPayload -Uri $args[0] -Category filters -Database $args[1] -WhatIf", _qbt.Url, fresh).Succeeded().Output.Single(), "Torrents"));
        Assert.False(File.Exists(fresh));

        Assert.Equal(1, Long(Sync("-Tag keep").Succeeded().Output.Single(), "Torrents"));
        var tagged = Ps.Run("Get-HashallTorrent -Tag keep").Succeeded().Output.Single();
        Assert.Equal(new[] { "keep", "tv" }, ((string[])tagged.Properties["Tags"].Value).Order());
        Assert.Equal(2, Long(Sync("-Category filters").Succeeded().Output.Single(), "Torrents"));
        Assert.Equal(2, Ps.Run("Get-HashallTorrent -Category filters").Succeeded().Output.Count);

        _qbt.Delete(t2.Hash);
        var after = Sync("-Category filters").Succeeded().Output.Single();
        Assert.Equal(1, Long(after, "Gone"));
        Assert.Single(Ps.Run("Get-HashallTorrent -Category filters").Succeeded().Output);
        var gone = Ps.Run("Get-HashallTorrent -Category filters -IncludeGone | Where-Object GoneAt").Succeeded().Output.Single();
        Assert.Equal(t2.Hash, gone.Properties["TorrentHash"].Value);

        // Idempotent: the same sync again changes nothing but the sighting times.
        var again = Sync("-Category filters").Succeeded().Output.Single();
        Assert.Equal(0, Long(again, "Added") + Long(again, "Gone"));
        Assert.Equal(1, Long(again, "Updated"));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void TwoQBittorrentsShareACatalogWithoutMarkingEachOthersTorrentsGone()
    {
        var one = Season("First.S01", 70);
        var two = Season("Second.S01", 80);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        var t1 = QBittorrentFixture.MakeTorrent(one.Dir, _torrents, 15);
        var t2 = QBittorrentFixture.MakeTorrent(two.Dir, _torrents, 15);
        _qbt.Add(t1.Torrent, t1.Hash, Data, category: "instances");
        using var other = new QBittorrentFixture();
        other.Add(t2.Torrent, t2.Hash, Data, category: "instances");

        Assert.Equal(0, Long(Sync("-Category instances").Succeeded().Output.Single(), "Gone"));
        var second = Ps.Run("Sync-HashallPayload -Uri $args[0]", other.Url).Succeeded().Output.Single();
        Assert.Equal(0, Long(second, "Gone"));
        var instances = Ps.Run("Get-HashallTorrent -Category instances | ForEach-Object { '{0} {1}' -f $_.TorrentHash, $_.Instance }")
            .Succeeded().Output.Select(o => (string)o.BaseObject).Order().ToList();
        Assert.Equal(new[] { $"{t1.Hash} {_qbt.Url}", $"{t2.Hash} {other.Url}" }.Order(), instances);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void UnreachableQBittorrentIsAClearError()
    {
        int closed = QBittorrentFixture.FreePort();
        var run = Ps.Run("Sync-HashallPayload -Uri $args[0]", $"http://127.0.0.1:{closed}");
        Assert.Equal("QBittorrentUnreachable,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", run.TerminatingErrorId);
        Assert.Contains($"127.0.0.1:{closed}", run.Terminating!.Message);
        Assert.Equal("QBittorrentUriInvalid,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", Ps.Run("Sync-HashallPayload -Uri 'ftp://x'").TerminatingErrorId);
        var withPassword = Ps.Run("Sync-HashallPayload -Uri 'http://admin:hunter2@127.0.0.1:8080'");
        Assert.Equal("QBittorrentUriHasCredentials,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", withPassword.TerminatingErrorId);
        Assert.DoesNotContain("hunter2", withPassword.Terminating!.ErrorRecord.ToString());
    }
}

/// <summary>Logging in to a qBittorrent that requires it: a PSCredential, or the environment for scheduled scripts.</summary>
public sealed class PayloadLoginTests : CatalogSessionTest, IClassFixture<PayloadLoginTests.SecuredQBittorrent>
{
    public sealed class SecuredQBittorrent() : IDisposable
    {
        public QBittorrentFixture Qbt { get; } = new("hashall", "s3cret pass");
        public void Dispose() => Qbt.Dispose();
    }

    private readonly QBittorrentFixture _qbt;

    public PayloadLoginTests(SecuredQBittorrent secured) => _qbt = secured.Qbt;

    [RequiresFact(Needs.QBittorrent)]
    public void WrongPasswordNoLoginAndRightCredentials()
    {
        var wrong = Ps.Run("Sync-HashallPayload -Uri $args[0] -Credential ([pscredential]::new('hashall', (ConvertTo-SecureString 'nope' -AsPlainText -Force)))", _qbt.Url);
        if (wrong.TerminatingErrorId?.StartsWith("CommandNotFoundException") == true || wrong.Terminating?.Message.Contains("ConvertTo-SecureString") == true)
            wrong = Ps.Run("$s = [securestring]::new(); 'nope'.ToCharArray() | ForEach-Object { $s.AppendChar($_) }; Sync-HashallPayload -Uri $args[0] -Credential ([pscredential]::new('hashall', $s))", _qbt.Url);
        Assert.Equal("QBittorrentLoginFailed,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", wrong.TerminatingErrorId);
        Assert.DoesNotContain("nope", wrong.Terminating!.Message);

        var none = Ps.Run("Sync-HashallPayload -Uri $args[0]", _qbt.Url);
        Assert.Equal("QBittorrentLoginRequired,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", none.TerminatingErrorId);

        var right = Ps.Run("$s = [securestring]::new(); 's3cret pass'.ToCharArray() | ForEach-Object { $s.AppendChar($_) }; Sync-HashallPayload -Uri $args[0] -Credential ([pscredential]::new('hashall', $s))", _qbt.Url).Succeeded();
        Assert.Equal("v4.5.2", right.Output.Single().Properties["QBittorrentVersion"].Value);

        // A scheduled script: everything from the environment, nothing typed.
        var fromEnv = Ps.Run(@"$env:QBITTORRENT_URL = $args[0]; $env:QBITTORRENT_USER = 'hashall'; $env:QBITTORRENT_PASS = 's3cret pass'
try { Sync-HashallPayload } finally { foreach ($v in 'QBITTORRENT_URL','QBITTORRENT_USER','QBITTORRENT_PASS') { [Environment]::SetEnvironmentVariable($v, $null) } }", _qbt.Url).Succeeded();
        Assert.Equal(0, Long(fromEnv.Output.Single(), "Torrents"));
    }
}

/// <summary>qBittorrent answers that cannot all be had for real here: a ban (real), a silent server (real socket), an old Web API (simulated).</summary>
public sealed class QBittorrentFailureTests : CatalogSessionTest
{
    private static string Password(string text) =>
        $"$s = [securestring]::new(); '{text}'.ToCharArray() | ForEach-Object {{ $s.AppendChar($_) }}; ";

    [RequiresFact(Needs.QBittorrent)]
    public void AfterTooManyFailedLoginsTheBanIsNamed()
    {
        using var qbt = new QBittorrentFixture("hashall", "right", maxFailedLogins: 1);
        var first = Ps.Run(Password("wrong") + "Sync-HashallPayload -Uri $args[0] -Credential ([pscredential]::new('hashall', $s))", qbt.Url);
        Assert.Equal("QBittorrentLoginFailed,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", first.TerminatingErrorId);
        var banned = Ps.Run(Password("right") + "Sync-HashallPayload -Uri $args[0] -Credential ([pscredential]::new('hashall', $s))", qbt.Url);
        Assert.Equal("QBittorrentBanned,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", banned.TerminatingErrorId);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void ASilentServerTimesOut()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start(); // accepts connections into its backlog and never answers
        try
        {
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var run = Ps.Run("Sync-HashallPayload -Uri $args[0] -TimeoutSec 1", $"http://127.0.0.1:{port}");
            Assert.Equal("QBittorrentTimeout,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", run.TerminatingErrorId);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        }
        finally
        {
            listener.Stop();
        }
    }

    [RequiresFact(Needs.QBittorrent)]
    public void CtrlCDoesNotWaitOutTheTimeout()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            // Stopped once the request has arrived and waits for an answer that never comes: within seconds, not the 120 s timeout.
            using var asked = new ManualResetEvent(false);
            _ = Task.Run(() =>
            {
                using var client = listener.AcceptTcpClient();
                var stream = client.GetStream();
                var request = new System.Text.StringBuilder();
                var buffer = new byte[4096];
                int n;
                while (!request.ToString().Contains("\r\n\r\n") && (n = stream.Read(buffer)) > 0)
                    request.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, n));
                asked.Set();
                try { while (stream.Read(buffer) > 0) { } } catch (IOException) { } // held open until the client goes
            });
            var took = Ps.StopWhen("Sync-HashallPayload -Uri $args[0] -TimeoutSec 120", asked, $"http://127.0.0.1:{port}");
            Assert.True(took < TimeSpan.FromSeconds(20), $"stopping took {took}");
        }
        finally
        {
            listener.Stop();
        }
    }

    [RequiresFact(Needs.QBittorrent)]
    public async Task AWebApiOlderThan28IsRefused()
    {
        // qBittorrent 4.1 (Web API 2.2) is not installable here: a stand-in answers its two version calls.
        int port = QBittorrentFixture.FreePort();
        using var old = new System.Net.HttpListener();
        old.Prefixes.Add($"http://127.0.0.1:{port}/");
        old.Start();
        var server = Task.Run(() =>
        {
            for (int i = 0; i < 2; i++)
            {
                var context = old.GetContext();
                var body = System.Text.Encoding.UTF8.GetBytes(context.Request.Url!.AbsolutePath.EndsWith("webapiVersion") ? "2.2" : "v4.1.0");
                context.Response.OutputStream.Write(body);
                context.Response.Close();
            }
        });
        var run = Ps.Run("Sync-HashallPayload -Uri $args[0]", $"http://127.0.0.1:{port}");
        Assert.Equal("QBittorrentTooOld,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", run.TerminatingErrorId);
        Assert.Contains("2.2", run.Terminating!.Message);
        await server.WaitAsync(TimeSpan.FromSeconds(5));
    }
}

/// <summary>A secret in -Uri (query, fragment, user info) is refused and never shown, by any cmdlet that takes -Uri.</summary>
public sealed class QBittorrentUriSecretTests : CatalogSessionTest
{
    [Fact]
    public void ASecretInTheAddressIsRefusedAndAppearsInNoStreamOrHostOutput()
    {
        const string secret = "S3cr3tXq";
        Ps.Run("Set-HashallDevice $args[0] data", Data).Succeeded();
        // A plan that gets as far as connecting (the plan's own checks come after).
        string plan = Tree.WriteFile("plan.json", "[{ \"Decision\": \"Move\", \"Direction\": \"Demote\", \"Name\": \"x\" }]");
        var commands = Ps.Run("Get-Command -Module Hashall -ParameterName Uri | ForEach-Object Name").Succeeded().Output.Select(o => o.ToString()).ToList();
        Assert.Contains("Sync-HashallPayload", commands);
        Assert.Contains("Invoke-RehomePlan", commands);
        Assert.Contains("Add-HashallTorrent", commands);
        var previews = Ps.Run("Get-Command -Module Hashall -ParameterName WhatIf | ForEach-Object Name").Succeeded().Output.Select(o => o.ToString()).ToHashSet();
        // The torrent commands need a torrent (a mandatory parameter would prompt): one qBittorrent would be asked for.
        var takeTorrents = Ps.Run("Get-Command -Module Hashall -ParameterName TorrentHash | ForEach-Object Name").Succeeded().Output.Select(o => o.ToString()).ToHashSet();
        foreach (string uri in new[] { $"http://127.0.0.1:1/?password={secret}", $"http://127.0.0.1:1?password={secret}&x=1", $"http://127.0.0.1:1/api#{secret}",
                     $"http://admin:{secret}@127.0.0.1:1/", $"http://admin:{secret}@127.0.0.1:1/?password={secret}" })
        {
            foreach (string command in commands)
            {
                // Read-only commands (Find-HashallTorrentData) have no -WhatIf.
                foreach (string whatIf in previews.Contains(command) ? new[] { "", "-WhatIf" } : new[] { "" })
                {
                    string call = command == "Invoke-RehomePlan" ? $"Invoke-RehomePlan -Path $args[1] -Uri $args[0] -Confirm:$false {whatIf}"
                        : command == "Add-HashallTorrent" ? $"[Hashall.Core.Torrents.TorrentDataMatch]::new() | Add-HashallTorrent -Uri $args[0] {whatIf}"
                        : takeTorrents.Contains(command) ? $"{command} -TorrentHash 0123456789abcdef0123456789abcdef01234567 -Uri $args[0] {whatIf}"
                        : $"{command} -Uri $args[0] {whatIf}";
                    // Everything a user could see: every stream, the host (-WhatIf text, Out-Default), the error's every field.
                    var result = Ps.Run(call + " *>&1 | Out-Default", uri, plan);
                    string seen = result.HostText + string.Concat(result.Output.Select(o => o.ToString())) + string.Concat(result.Warnings)
                        + string.Concat(result.Errors.Select(e => e + "|" + e.Exception + "|" + e.TargetObject + "|" + e.ErrorDetails + "|" + e.CategoryInfo))
                        + (result.Terminating == null ? "" : result.Terminating + "|" + result.Terminating.ErrorRecord + "|" + result.Terminating.ErrorRecord.TargetObject + "|" + result.Terminating.ErrorRecord.CategoryInfo);
                    Assert.DoesNotContain(secret, seen);
                    // It was the address that was refused (not, say, an unreachable port).
                    Assert.Contains(uri.Contains('?') || uri.Contains('#') ? "The address is not repeated here" : "not in the address", seen);
                }
            }
        }
        // The refusal comes before anything is asked of qBittorrent or the catalog.
        var direct = Ps.Run("Sync-HashallPayload -Uri $args[0]", $"http://127.0.0.1:1/?password={secret}");
        Assert.Equal("QBittorrentUriHasQuery,Hashall.PowerShell.Payloads.SyncHashallPayloadCommand", direct.TerminatingErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, direct.Terminating!.ErrorRecord.CategoryInfo.Category);
    }
}
