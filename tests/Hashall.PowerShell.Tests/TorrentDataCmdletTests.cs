using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Find-HashallTorrentData the way a user types it: .torrent files made by mktorrent from release
/// folders, their data catalogued under other names and folders (with same-size decoys), filtered by
/// status and share, restricted to a device, a broken .torrent among good ones, and torrents exported
/// from a real qBittorrent.
/// </summary>
public sealed class TorrentDataCmdletTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly string _torrents;
    private readonly string _releases;

    public TorrentDataCmdletTests(QBittorrentFixture qbt)
    {
        _qbt = qbt;
        _torrents = Tree.Path("torrents");
        _releases = Tree.Path("releases");
        Directory.CreateDirectory(_torrents);
        Directory.CreateDirectory(_releases);
    }

    /// <summary>Writes a release file (outside the scanned data) and, unless <paramref name="copyAs"/> is null, the same bytes under the data folder by another name.</summary>
    private void Release(string relative, int size, int seed, string? copyAs, string? root = null)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        string full = Path.Combine(_releases, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        if (copyAs == null)
            return;
        string copy = Path.Combine(root ?? Data, copyAs);
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.WriteAllBytes(copy, bytes);
    }

    private (string Torrent, string Hash) MakeTorrent(string release, int exponent = 15) =>
        QBittorrentFixture.MakeTorrent(Path.Combine(_releases, release), _torrents, exponent);

    private static string Status(PSObject o) => o.Properties["Status"].Value.ToString()!;

    private static PSObject FileOf(PSObject match, string relative) =>
        ((IEnumerable<object>)match.Properties["Files"].Value).Select(PSObject.AsPSObject).Single(f => (string)f.Properties["RelativePath"].Value == relative);

    private static string? Matched(PSObject match, string relative) => (string?)FileOf(match, relative).Properties["MatchedPath"].Value;

    /// <summary>Every file under the data folder with its size, mtime, inode and link count: what a read-only command must leave as it is.</summary>
    private string Snapshot(string root) => TempTree.Run("sh", "-c", "cd \"$1\" && find . -printf '%p %s %T@ %i %n\\n' | sort", "_", root);

    [RequiresFact(Needs.QBittorrent)] // mktorrent comes with qBittorrent in .ci/run
    public void RenamedCopiesAreFoundAndProvenPartialAndNoneAreFilteredByShareAndABadTorrentIsNamed()
    {
        // Show.S01: every file catalogued under other names and folders; a decoy of ep01's size and name
        // but other bytes sits where names would point (it must fail its pieces).
        Release("Show.S01/ep01.mkv", 300_000, 1, "library/Show (2024)/Season 1/Show - 1x01.mkv");
        Release("Show.S01/ep02.mkv", 200_001, 2, "library/Show (2024)/Season 1/Show - 1x02.mkv");
        Release("Show.S01/Subs/en.srt", 5_000, 3, "subs/show-1x01.en.srt");
        // The decoys fill a folder as the release would (both episodes), so that folder ranks as high as the true one.
        Write("downloads/Show.S01/ep01.mkv", 300_000, 99);
        Write("downloads/Show.S01/ep02.mkv", 200_001, 98);
        // Pack: the big file is there, the small one is not (Partial, 200,000 of 205,000 bytes).
        Release("Pack/big.bin", 200_000, 4, "misc/renamed-big.bin");
        Release("Pack/small.nfo", 5_000, 5, null);
        // Nothing: no byte of it is catalogued.
        Release("Nothing/a.bin", 70_000, 6, null);
        var show = MakeTorrent("Show.S01");
        var pack = MakeTorrent("Pack");
        var nothing = MakeTorrent("Nothing");
        TempTree.Age(Data);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        File.WriteAllBytes(Path.Combine(_torrents, "broken.torrent"), "d4:infod4:name"u8.ToArray());
        string before = Snapshot(Data);
        string catalogBefore = TempTree.Sha1Sum(Db);

        // The folder stands for its .torrent files; the broken one is a non-terminating error and the rest are searched.
        var all = Ps.Run("Find-HashallTorrentData $args[0] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { 'ERR ' + $_.FullyQualifiedErrorId + ' ' + $_.Exception.Message }", _torrents);
        var matches = all.Output.Where(o => o.BaseObject is not string).ToList();
        var err = Assert.Single(all.Output, o => o.BaseObject is string);
        Assert.StartsWith("ERR TorrentFileInvalid,Hashall.PowerShell.Torrents.FindHashallTorrentDataCommand ", (string)err.BaseObject);
        Assert.Contains("broken.torrent", (string)err.BaseObject);
        Assert.Equal(3, matches.Count);
        var byHash = matches.ToDictionary(m => (string)m.Properties["Hash"].Value);

        var s = byHash[show.Hash];
        Assert.Equal(("Complete", 1.0, 505_001L), (Status(s), (double)s.Properties["Share"].Value, Long(s, "BytesMatched")));
        Assert.Equal(Path.Combine(Data, "library/Show (2024)/Season 1/Show - 1x01.mkv"), Matched(s, "ep01.mkv"));
        Assert.Equal(Path.Combine(Data, "library/Show (2024)/Season 1/Show - 1x02.mkv"), Matched(s, "ep02.mkv"));
        Assert.Equal(Path.Combine(Data, "subs/show-1x01.en.srt"), Matched(s, "Subs/en.srt"));
        Assert.True((bool)FileOf(s, "ep01.mkv").Properties["Verified"].Value);
        Assert.True(Long(FileOf(s, "ep01.mkv"), "Candidates") >= 2); // the decoy was considered and dropped
        Assert.True(Long(s, "BytesRead") > 0);
        Assert.Equal(show.Torrent, (string)s.Properties["TorrentFile"].Value);
        Assert.Equal(show.Torrent, (string)s.Properties["Source"].Value);
        Assert.Equal(Db, (string)s.Properties["Database"].Value);

        var p = byHash[pack.Hash];
        Assert.Equal(("Partial", 200_000L), (Status(p), Long(p, "BytesMatched")));
        Assert.Equal(200_000.0 / 205_000, (double)p.Properties["Share"].Value, 6);
        Assert.Equal(new[] { "small.nfo" }, ((IEnumerable<object>)p.Properties["MissingFiles"].Value).Select(x => x.ToString()));
        Assert.Equal(Path.Combine(Data, "misc/renamed-big.bin"), Matched(p, "big.bin"));
        Assert.Null(Matched(p, "small.nfo"));
        Assert.Equal(("None", 0L), (Status(byHash[nothing.Hash]), Long(byHash[nothing.Hash], "BytesMatched")));

        // The pipelines a user types: only the complete ones; -MinimumShare drops what is below it.
        var complete = Ps.Run("Find-HashallTorrentData $args[0] -ErrorAction SilentlyContinue | Where-Object Status -eq Complete", _torrents).Output;
        Assert.Equal(show.Hash, (string)Assert.Single(complete).Properties["Hash"].Value);
        var useful = Ps.Run("[IO.DirectoryInfo]::new($args[0]).GetFiles('*-*.torrent') | Find-HashallTorrentData -MinimumShare 0.9 -Verbose", _torrents).Succeeded();
        Assert.Equal(new[] { pack.Hash, show.Hash }.Order(), useful.Output.Select(m => (string)m.Properties["Hash"].Value).Order());
        var strict = Ps.Run("Find-HashallTorrentData ($args[0] + '/*-*.torrent') -MinimumShare 0.99", _torrents).Succeeded();
        Assert.Equal(show.Hash, (string)Assert.Single(strict.Output).Properties["Hash"].Value);
        Assert.StartsWith("ParameterArgumentValidationError,", Ps.Run("Find-HashallTorrentData $args[0] -MinimumShare 1.5", show.Torrent).TerminatingErrorId); // outside 0-1

        // The table a user sees: the share as a percentage, bytes formatted; a file's table.
        string table = Ps.Run("Find-HashallTorrentData $args[0] | Out-Default", show.Torrent).Succeeded().HostText;
        Assert.Matches(@"Complete\s+100\.0 %\s+493 KiB\s+\S+ \S*B\s+\S+\s+Show\.S01", table);
        string files = Ps.Run("(Find-HashallTorrentData $args[0]).Files | Out-Default", show.Torrent).Succeeded().HostText;
        Assert.Matches(@"ep02\.mkv\s+195 KiB\s+True\s+.*Show - 1x02\.mkv", files);

        // Nothing was changed: no file, link or time under the data, and the catalog file is byte for byte the same.
        Assert.Equal(before, Snapshot(Data));
        Assert.Equal(catalogBefore, TempTree.Sha1Sum(Db));

        // No catalog: CatalogNotFound, and none is created.
        string missing = Tree.Path("none", "catalog.db");
        var noCatalog = Ps.Run("Find-HashallTorrentData $args[0] -Database $args[1]", show.Torrent, missing);
        Assert.Equal("CatalogNotFound,Hashall.PowerShell.Torrents.FindHashallTorrentDataCommand", noCatalog.TerminatingErrorId);
        Assert.False(File.Exists(missing));
        Assert.False(Directory.Exists(Tree.Path("none")));

        // A pattern that matches nothing is named.
        var none = Ps.Run("Find-HashallTorrentData ($args[0] + '/zz*.torrent') -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId", _torrents);
        Assert.Equal("TorrentFileNotFound,Hashall.PowerShell.Torrents.FindHashallTorrentDataCommand", Assert.Single(none.Output).BaseObject);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void DeviceRestrictsTheCandidatesToTheDevicesNamed()
    {
        // The same bytes on two devices: the stash copy keeps the release's names, the pool copy is renamed.
        string pool = Tree.MountTmpfs("pool");
        Release("Film.2021/Film.2021.mkv", 150_000, 7, "stash/Film.2021/Film.2021.mkv");
        File.Copy(Path.Combine(_releases, "Film.2021/Film.2021.mkv"), Path.Combine(pool, "film (2021).mkv"));
        var film = MakeTorrent("Film.2021");
        TempTree.Age(Data);
        TempTree.Age(pool);
        Ps.Run("Set-HashallDevice $args[0] stash; Set-HashallDevice $args[1] pool; Invoke-HashallScan $args[0]; Invoke-HashallScan $args[1]", Data, pool).Succeeded();

        var onPool = Assert.Single(Ps.Run("Find-HashallTorrentData $args[0] -Device pool", film.Torrent).Succeeded().Output);
        Assert.Equal(("Complete", "pool", true), (Status(onPool), (string)onPool.Properties["Device"].Value, (bool)onPool.Properties["OneDevice"].Value));
        Assert.Equal(Path.Combine(pool, "film (2021).mkv"), Matched(onPool, "Film.2021.mkv"));
        var onStash = Assert.Single(Ps.Run("Find-HashallTorrentData $args[0] -Device $args[1]", film.Torrent, Path.Combine(Data, "stash")).Succeeded().Output);
        Assert.Equal(("Complete", "stash"), (Status(onStash), (string)onStash.Properties["Device"].Value));
        Assert.Equal(Path.Combine(Data, "stash/Film.2021/Film.2021.mkv"), Matched(onStash, "Film.2021.mkv"));

        // The pool copy gone from the pool's catalog view: only the other device has it.
        File.Delete(Path.Combine(pool, "film (2021).mkv"));
        Ps.Run("Invoke-HashallScan $args[0]", pool).Succeeded();
        var gone = Assert.Single(Ps.Run("Find-HashallTorrentData $args[0] -Device pool", film.Torrent).Succeeded().Output);
        Assert.Equal("None", Status(gone));

        var unknown = Ps.Run("Find-HashallTorrentData $args[0] -Device nosuch", film.Torrent);
        Assert.Equal("DeviceNotFound,Hashall.PowerShell.Torrents.FindHashallTorrentDataCommand", unknown.TerminatingErrorId);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void TorrentsInQBittorrentThatLostTheirFilesAreFoundByTheirHashWithProgress()
    {
        string category = "find-" + Guid.NewGuid().ToString("N")[..8];
        // qBittorrent seeds from a save path where the data is not (missing files); the catalog has it renamed.
        Release("Lost.S01/e1.mkv", 400_000, 10 + Random.Shared.Next(1 << 20), "archive/lost e1.mkv");
        Release("Lost.S01/e2.mkv", 300_003, 11 + Random.Shared.Next(1 << 20), "archive/lost e2.mkv");
        var lost = MakeTorrent("Lost.S01");
        Directory.CreateDirectory(Tree.Path("empty"));
        _qbt.Add(lost.Torrent, lost.Hash, Tree.Path("empty"), category);
        TempTree.Age(Data);
        Ps.Run("Invoke-HashallScan $args[0]; Sync-HashallPayload -Uri $args[1] -Category $args[2]", Data, _qbt.Url, category).Succeeded();

        var progress = new List<ProgressRecord>();
        var r = Ps.Run("Get-HashallTorrent -Category $args[1] | Find-HashallTorrentData -Uri $args[0] | Where-Object Status -eq Complete", p => progress.Add(p), _qbt.Url, category).Succeeded();
        var m = Assert.Single(r.Output);
        Assert.Equal((lost.Hash, "Lost.S01"), ((string)m.Properties["Hash"].Value, (string)m.Properties["Name"].Value));
        Assert.StartsWith("qBittorrent ", (string)m.Properties["Source"].Value);
        Assert.Equal("", (string)m.Properties["TorrentFile"].Value);
        Assert.Equal(Path.Combine(Data, "archive/lost e2.mkv"), Matched(m, "e2.mkv"));
        Assert.Contains(progress, p => p.Activity == "Finding the data of Lost.S01" && p.RecordType == ProgressRecordType.Processing);
        Assert.Contains(progress, p => p.Activity == "Finding the data of Lost.S01" && p.RecordType == ProgressRecordType.Completed);

        // By -TorrentHash directly; a hash qBittorrent does not have is a non-terminating error, the rest still found.
        var two = Ps.Run("Find-HashallTorrentData -TorrentHash 0123456789abcdef0123456789abcdef01234567, $args[1] -Uri $args[0] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId", _qbt.Url, lost.Hash);
        Assert.Equal("TorrentNotFound,Hashall.PowerShell.Torrents.FindHashallTorrentDataCommand", Assert.Single(two.Output, o => o.BaseObject is string).BaseObject);
        Assert.Equal("Complete", Status(Assert.Single(two.Output, o => o.BaseObject is not string)));

        // No qBittorrent at the address: one terminating error, not one per torrent.
        var down = Ps.Run("Find-HashallTorrentData -TorrentHash $args[0] -Uri http://127.0.0.1:9", lost.Hash);
        Assert.Equal("QBittorrentUnreachable,Hashall.PowerShell.Torrents.FindHashallTorrentDataCommand", down.TerminatingErrorId);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void CtrlCStopsASearchQuicklyAndLeavesTheCatalogUsable()
    {
        // 4 files of 16 MiB with the same size, catalogued in reverse order under other names: candidates must be read to tell them apart.
        string big = Path.Combine(_releases, "Big");
        Directory.CreateDirectory(big);
        for (int i = 0; i < 4; i++)
            TempTree.Run("sh", "-c", $"head -c {16 * 1048576} /dev/urandom > '{Path.Combine(big, $"part{i}.bin")}'");
        var torrent = MakeTorrent("Big", 16);
        for (int i = 0; i < 4; i++)
            File.Copy(Path.Combine(big, $"part{i}.bin"), Path.Combine(Data, $"copy{3 - i}.bin"));
        TempTree.Age(Data);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();

        var stoppedAfter = Ps.RunAndStop("Find-HashallTorrentData $args[0]", p => p.RecordType == ProgressRecordType.Processing, torrent.Torrent);
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(10), $"stopped after {stoppedAfter}"); // a hang guard
        var again = Assert.Single(Ps.Run("Find-HashallTorrentData $args[0]", torrent.Torrent).Succeeded().Output);
        Assert.Equal("Complete", Status(again));
        Assert.Equal(Path.Combine(Data, "copy3.bin"), Matched(again, "part0.bin"));
    }
}
