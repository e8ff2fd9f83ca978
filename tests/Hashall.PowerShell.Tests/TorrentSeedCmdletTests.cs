using System.Management.Automation;
using System.Text.Json;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Add-HashallTorrent with a real qBittorrent and real files: .torrent files made by mktorrent (v1) and
/// libtorrent (hybrid) from release folders whose data is catalogued under other names; laid out with
/// hard links, added, rechecked to 100 % (or to the share of a Partial), across devices with -AllowCopy,
/// refusals before anything is made, a kill mid-way resumed, and -Repair of a torrent in missingFiles.
/// </summary>
public sealed class TorrentSeedCmdletTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly string _torrents;
    private readonly string _releases;
    private readonly string _seeds;
    private readonly string _category = "cross-seed-" + Guid.NewGuid().ToString("N")[..8];

    public TorrentSeedCmdletTests(QBittorrentFixture qbt)
    {
        _qbt = qbt;
        _torrents = Tree.Path("torrents");
        _releases = Tree.Path("releases");
        _seeds = Tree.Path("seeds");
        Directory.CreateDirectory(_torrents);
        Directory.CreateDirectory(_releases);
        Directory.CreateDirectory(_seeds);
    }

    /// <summary>Writes a release file (outside the scanned data) and, unless <paramref name="copyAs"/> is null, the same bytes under the data folder by another name.</summary>
    private void Release(string relative, int size, int seed, string? copyAs)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        string full = Path.Combine(_releases, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        if (copyAs == null)
            return;
        string copy = Path.Combine(Data, copyAs);
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.WriteAllBytes(copy, bytes);
    }

    private (string Torrent, string Hash) MakeTorrent(string release, int exponent = 15) =>
        QBittorrentFixture.MakeTorrent(Path.Combine(_releases, release), _torrents, exponent);

    private void Scan()
    {
        TempTree.Age(Data);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
    }

    private static string Status(PSObject o) => o.Properties["Status"].Value.ToString()!;

    private static (ulong Device, ulong Inode, long Links) Stat(string path)
    {
        var parts = TempTree.Run("stat", "-c", "%d %i %h", path).Trim().Split(' ');
        return (ulong.Parse(parts[0]), ulong.Parse(parts[1]), long.Parse(parts[2]));
    }

    /// <summary>Every name under a folder (files and folders), sorted; empty when it does not exist.</summary>
    private static string[] Names(string root) =>
        Directory.Exists(root) ? Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray() : [];

    private RunResult Add(string script, params object?[] args) => Ps.Run(script, [_qbt.Url, .. args]);

    [RequiresFact(Needs.QBittorrent)]
    public void AV1TorrentUnderOtherNamesIsLaidOutWithHardLinksAddedCheckedToFullAndStarted()
    {
        Release("Show.S01/ep01.mkv", 300_000, 1, "library/Show (2024)/Season 1/Show - 1x01.mkv");
        Release("Show.S01/ep02.mkv", 200_001, 2, "library/Show (2024)/Season 1/Show - 1x02.mkv");
        Release("Show.S01/Subs/en.srt", 5_000, 3, "subs/show-1x01.en.srt");
        var show = MakeTorrent("Show.S01");
        Scan();
        string saved = Path.Combine(_seeds, _category, "Show.S01");
        string[] sources = ["library/Show (2024)/Season 1/Show - 1x01.mkv", "library/Show (2024)/Season 1/Show - 1x02.mkv", "subs/show-1x01.en.srt"];
        var before = sources.Select(s => Stat(Path.Combine(Data, s))).ToArray();

        // -WhatIf names every folder, link and the add, and changes nothing (no folder, no torrent, no journal row).
        var whatIf = Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SaveRoot $args[2] -Category $args[3] -WhatIf", show.Torrent, _seeds, _category).Succeeded();
        Assert.Empty(whatIf.Output);
        Assert.Contains($"What if: Performing the operation \"Hard link to '{Path.Combine(Data, sources[0])}'\" on target \"{Path.Combine(saved, "ep01.mkv")}\"", whatIf.HostText);
        Assert.Contains($"on target \"{Path.Combine(saved, "Subs", "en.srt")}\"", whatIf.HostText);
        Assert.Contains($"Create folder\" on target \"{Path.Combine(saved, "Subs")}\"", whatIf.HostText);
        Assert.Contains($"Add 'Show.S01' ({show.Hash}) stopped at '{Path.Combine(_seeds, _category)}' in category '{_category}', recheck it and start it at 100.0%", whatIf.HostText.Replace("100.0 %", "100.0%"));
        Assert.Empty(Names(_seeds));
        Assert.Null(_qbt.State(show.Hash));
        Assert.Equal(0L, Convert.ToInt64(Ps.Run("[Hashall.Core.Catalog.CatalogDatabase]::Open($args[0]).Scalar('SELECT count(*) FROM seed_jobs')", Db).Succeeded().Output.Single().BaseObject));

        // A whole sync first, so that orphans may be listed (they refuse a catalog never synced whole).
        Ps.Run("Invoke-HashallScan $args[1] | Out-Null; Sync-HashallPayload -Uri $args[0] | Out-Null", _qbt.Url, _seeds).Succeeded();
        // The pipeline a user types: the watch folder's .torrent files, the complete ones, added under the category.
        var r = Add("[IO.DirectoryInfo]::new($args[1]).GetFiles('*.torrent') | Find-HashallTorrentData | Where-Object Status -eq Complete | Add-HashallTorrent -Uri $args[0] -SaveRoot $args[2] -Category $args[3] -Tag one, two",
            _torrents, _seeds, _category).Succeeded();
        var added = Assert.Single(r.Output);
        Assert.Equal(("Added", show.Hash, 3, 505_001L, 0L), (Status(added), (string)added.Properties["Hash"].Value, (int)added.Properties["Links"].Value, Long(added, "BytesLinked"), Long(added, "BytesCopied")));
        Assert.Equal(1.0, (double)added.Properties["Progress"].Value);
        Assert.Equal(Path.Combine(_seeds, _category), (string)added.Properties["SavePath"].Value);
        Assert.Equal(saved, (string)added.Properties["ContentPath"].Value);
        var info = _qbt.Info(show.Hash)!.Value;
        Assert.Equal(1.0, info.Progress);
        Assert.DoesNotContain("paused", info.State);
        Assert.Equal(saved, info.ContentPath);
        // Hard links: each new name is the original's inode (no new bytes), each inode now has two names.
        string[] laidOut = ["ep01.mkv", "ep02.mkv", "Subs/en.srt"];
        for (int i = 0; i < 3; i++)
        {
            var now = Stat(Path.Combine(saved, laidOut[i]));
            Assert.Equal((before[i].Device, before[i].Inode, before[i].Links + 1), now);
        }
        // Recorded in the catalog: the torrent with a complete payload, its new names hashed (from their inodes).
        var torrent = Assert.Single(Ps.Run("Get-HashallTorrent -Category $args[0]", _category).Succeeded().Output);
        Assert.Equal((show.Hash, "complete"), ((string)torrent.Properties["TorrentHash"].Value, (string)torrent.Properties["PayloadStatus"].Value));
        Assert.Equal(new[] { "one", "two" }, (string[])torrent.Properties["Tags"].Value);
        // Its files are the torrent's at once, without another sync: under a seeding root, none of its new
        // names is an orphan (the add records the torrent's file list as a sync does).
        Ps.Run("Add-HashallSeedingRoot $args[0] | Out-Null", _seeds).Succeeded();
        var orphans = Ps.Run("Get-HashallOrphan | ForEach-Object FullName").Succeeded().Output.Select(o => (string)o.BaseObject).ToArray();
        Assert.DoesNotContain(orphans, o => o.StartsWith(saved + "/", StringComparison.Ordinal));
        Ps.Run("Remove-HashallSeedingRoot $args[0] -Confirm:$false", _seeds).Succeeded();
        // Again: qBittorrent has it now, so it is refused (with the way to repair it) and nothing changes.
        string[] names = Names(_seeds);
        var again = Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SaveRoot $args[2] -Category $args[3]", show.Torrent, _seeds, _category);
        Assert.Empty(again.Output);
        var error = Assert.Single(again.Errors);
        Assert.Equal("TorrentAlreadyAdded,Hashall.PowerShell.Torrents.AddHashallTorrentCommand", error.FullyQualifiedErrorId);
        Assert.Contains("-Repair", error.Exception.Message);
        Assert.Equal(names, Names(_seeds));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AHybridTorrentIsAddedAtFullAndAPartialOneEndsAtItsPieceShareAndDownloadsTheRest()
    {
        Release("Album/01.flac", 70_000, 11, "music/a/track one.flac");
        Release("Album/02.flac", 50_000, 12, "music/a/track two.flac");
        Release("Album/cover.jpg", 9_000, 13, "music/a/folder.jpg");
        var hybrid = QBittorrentFixture.MakeHybridTorrent(Path.Combine(_releases, "Album"), _torrents);
        // Partial: big.bin is there, small.nfo (after it, in a shared piece) is not.
        Release("Pack/big.bin", 200_000, 4, "misc/renamed-big.bin");
        Release("Pack/small.nfo", 5_000, 5, null);
        var pack = MakeTorrent("Pack");
        Scan();

        var h = Assert.Single(Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", hybrid.Torrent, Path.Combine(_seeds, "hybrid")).Succeeded().Output);
        Assert.Equal(("Added", hybrid.Hash, 3, 129_000L, 1.0), (Status(h), (string)h.Properties["Hash"].Value, (int)h.Properties["Links"].Value, Long(h, "BytesLinked"), (double)h.Properties["Progress"].Value));
        Assert.Equal(1.0, _qbt.Info(hybrid.Hash)!.Value.Progress);
        Assert.Equal(Stat(Path.Combine(Data, "music/a/track two.flac")).Inode, Stat(Path.Combine(_seeds, "hybrid", "Album", "02.flac")).Inode);
        Assert.False(Directory.Exists(Path.Combine(_seeds, "hybrid", "Album", ".pad")));

        // Pieces of 32 KiB: 196,608 bytes are in pieces of big.bin alone; the piece it shares with small.nfo fails.
        var p = Assert.Single(Add("Find-HashallTorrentData $args[1] | Where-Object Status -eq Partial | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", pack.Torrent, Path.Combine(_seeds, "partial")).Succeeded().Output);
        double expected = 196_608.0 / 205_000;
        Assert.Equal(("Added", 1), (Status(p), (int)p.Properties["Links"].Value));
        Assert.Equal(expected, (double)p.Properties["ExpectedProgress"].Value, 9);
        Assert.Equal(expected, (double)p.Properties["Progress"].Value, 3);
        // Started: it wants only the rest (no peers here, so it stays at the matched share and downloading).
        Thread.Sleep(1000);
        var info = _qbt.Info(pack.Hash)!.Value;
        Assert.Equal(expected, info.Progress, 3);
        Assert.True(Math.Abs(info.Progress - 200_000.0 / 205_000) <= 32_768.0 / 205_000);
        Assert.Matches("^(stalledDL|downloading|metaDL|queuedDL|forcedDL)$", info.State);
        Assert.False(File.Exists(Path.Combine(_seeds, "partial", "Pack", "small.nfo")) && new FileInfo(Path.Combine(_seeds, "partial", "Pack", "small.nfo")).Length == 5_000 && TempTree.Sha1Sum(Path.Combine(_seeds, "partial", "Pack", "small.nfo")) == TempTree.Sha1Sum(Path.Combine(_releases, "Pack", "small.nfo")));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void DataOnAnotherDeviceIsRefusedWithoutAllowCopyAndCopiedVerifiedWithIt()
    {
        Release("Movie/movie.mkv", 400_000, 21, "films/The Movie (1999).mkv");
        Release("Movie/movie.nfo", 1_000, 22, "films/The Movie (1999).nfo");
        var movie = MakeTorrent("Movie");
        Scan();
        string pool = Tree.MountTmpfs("pool");

        var refused = Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", movie.Torrent, Path.Combine(pool, "seeds"));
        Assert.Empty(refused.Output);
        var error = Assert.Single(refused.Errors);
        Assert.Equal("TorrentDataOtherDevice,Hashall.PowerShell.Torrents.AddHashallTorrentCommand", error.FullyQualifiedErrorId);
        Assert.Contains("-AllowCopy", error.Exception.Message);
        Assert.Empty(Names(pool));
        Assert.Null(_qbt.State(movie.Hash));

        var copied = Assert.Single(Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2] -AllowCopy", movie.Torrent, Path.Combine(pool, "seeds")).Succeeded().Output);
        Assert.Equal(("Added", 0, 2, 401_000L, 1.0), (Status(copied), (int)copied.Properties["Links"].Value, (int)copied.Properties["Copies"].Value, Long(copied, "BytesCopied"), (double)copied.Properties["Progress"].Value));
        string copy = Path.Combine(pool, "seeds", "Movie", "movie.mkv");
        Assert.Equal(TempTree.Sha1Sum(Path.Combine(Data, "films/The Movie (1999).mkv")), TempTree.Sha1Sum(copy));
        Assert.NotEqual(Stat(Path.Combine(Data, "films/The Movie (1999).mkv")).Device, Stat(copy).Device);
        // The copy has its source's mode and mtime (readable to a qBittorrent running as another user, as the source is).
        Assert.Equal(TempTree.Run("stat", "-c", "%a %Y", Path.Combine(Data, "films/The Movie (1999).mkv")), TempTree.Run("stat", "-c", "%a %Y", copy));
        Assert.Equal("644", TempTree.Run("stat", "-c", "%a", copy).Trim());
        Assert.DoesNotContain(Names(pool), n => n.EndsWith(".part"));
        Assert.Equal(1.0, _qbt.Info(movie.Hash)!.Value.Progress);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AnExistingFileInTheLayoutAndAnUnsafeNameAreRefusedBeforeAnyLink()
    {
        Release("Show.S02/ep01.mkv", 100_000, 31, "tv/s2e1.mkv");
        Release("Show.S02/ep02.mkv", 100_001, 32, "tv/s2e2.mkv");
        var show = MakeTorrent("Show.S02");
        // A folder named '..\' is a valid name here; libtorrent drops the '\' and would write to '..'.
        Release("Escape/..\\/x.bin", 50_000, 33, "other/x.bin");
        Release("Escape/y.bin", 50_001, 34, "other/y.bin");
        var escape = MakeTorrent("Escape");
        Scan();
        string save = Path.Combine(_seeds, "s");
        Directory.CreateDirectory(Path.Combine(save, "Show.S02"));
        File.WriteAllText(Path.Combine(save, "Show.S02", "ep02.mkv"), "someone else's");
        var sourceLinks = Stat(Path.Combine(Data, "tv/s2e1.mkv")).Links;

        var exists = Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", show.Torrent, save);
        var error = Assert.Single(exists.Errors);
        Assert.Equal("TorrentLayoutPathExists,Hashall.PowerShell.Torrents.AddHashallTorrentCommand", error.FullyQualifiedErrorId);
        Assert.Contains(Path.Combine(save, "Show.S02", "ep02.mkv"), error.Exception.Message);
        Assert.Equal("someone else's", File.ReadAllText(Path.Combine(save, "Show.S02", "ep02.mkv")));
        Assert.Equal([Path.Combine(save, "Show.S02"), Path.Combine(save, "Show.S02", "ep02.mkv")], Names(save));
        Assert.Equal(sourceLinks, Stat(Path.Combine(Data, "tv/s2e1.mkv")).Links);
        Assert.Null(_qbt.State(show.Hash));

        var match = Assert.Single(Ps.Run("Find-HashallTorrentData $args[0]", escape.Torrent).Succeeded().Output);
        Assert.Equal("Complete", Status(match));
        var unsafeRun = Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", escape.Torrent, Path.Combine(_seeds, "e", "inner"));
        var unsafeError = Assert.Single(unsafeRun.Errors);
        Assert.Equal("TorrentPathUnsafe,Hashall.PowerShell.Torrents.AddHashallTorrentCommand", unsafeError.FullyQualifiedErrorId);
        Assert.False(Directory.Exists(Path.Combine(_seeds, "e")));
        Assert.Null(_qbt.State(escape.Hash));
        Assert.Equal(1L, Stat(Path.Combine(Data, "other/x.bin")).Links);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AKillWhileLinkingThousandsOfFilesIsResumedByTheRerunAndLeavesNothingHalfMade()
    {
        // 3,000 files: more than ten journal batches of links, and the finder's size batches.
        const int count = 3000;
        for (int i = 0; i < count; i++)
            Release($"Many/d{i % 7}/f{i:D4}.bin", 1_000 + i, 100 + i, $"flat/renamed-{i:D4}.dat");
        var many = MakeTorrent("Many", 16);
        Scan();
        string save = Path.Combine(_seeds, "many");
        string find = $"Import-Module '{ModuleFolder.Manifest}'; Find-HashallTorrentData '{many.Torrent}' -Database '{Db}' | Add-HashallTorrent -Uri '{_qbt.Url}' -SavePath '{save}' -Database '{Db}'";

        // Killed at the 600th link: two batches journalled as made, the third journalled as planned and partly linked.
        var (exit, output) = ChildShell.Run(find, new Dictionary<string, string> { ["HASHALL_FAULT"] = "seed-link:600" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        int linked = Directory.EnumerateFiles(save, "*", SearchOption.AllDirectories).Count();
        Assert.Equal(600, linked);
        Assert.Null(_qbt.State(many.Hash));
        // Someone runs it again: the job resumes; the 600 links are taken as its own, the rest are made.
        var r = Assert.Single(Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", many.Torrent, save).Succeeded().Output);
        Assert.Equal(("Added", count, true), (Status(r), (int)r.Properties["Links"].Value, (bool)r.Properties["Resumed"].Value));
        Assert.Equal(1.0, (double)r.Properties["Progress"].Value);
        var files = Directory.EnumerateFiles(save, "*", SearchOption.AllDirectories).ToList();
        Assert.Equal(count, files.Count);
        for (int i = 0; i < count; i += 97)
            Assert.Equal(Stat(Path.Combine(Data, $"flat/renamed-{i:D4}.dat")).Inode, Stat(Path.Combine(save, "Many", $"d{i % 7}", $"f{i:D4}.bin")).Inode);
        Assert.Equal(1.0, _qbt.Info(many.Hash)!.Value.Progress);
        Assert.Equal("done", Ps.Run("$db = $args[0]; [Hashall.Core.Catalog.CatalogDatabase]::Open($db).Scalar(\"SELECT group_concat(status) FROM seed_jobs\")", Db).Succeeded().Output.Single().BaseObject);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AKillAfterTheAddThenAFileInTheWayRollsBackOnlyWhatTheJobMadeAndTheTorrentItAdded()
    {
        for (int i = 0; i < 5; i++)
            Release($"Set/part{i}/f{i}.bin", 40_000 + i, 200 + i, $"loose/file-{i}.dat");
        var set = MakeTorrent("Set");
        Scan();
        string save = Path.Combine(_seeds, "set");
        string run = $"Import-Module '{ModuleFolder.Manifest}'; Find-HashallTorrentData '{set.Torrent}' -Database '{Db}' | Add-HashallTorrent -Uri '{_qbt.Url}' -SavePath '{save}' -Database '{Db}'";

        // Killed just after qBittorrent was told to add it: every link made, the torrent there, stopped.
        var (exit, output) = ChildShell.Run(run, new Dictionary<string, string> { ["HASHALL_FAULT"] = "seed-add:1" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        Assert.Equal(5, Directory.EnumerateFiles(save, "*", SearchOption.AllDirectories).Count());
        Assert.NotNull(_qbt.State(set.Hash));
        // Meanwhile one of its names is replaced by someone else's file: not this job's, so the rerun cannot go on.
        string theirs = Path.Combine(save, "Set", "part2", "f2.bin");
        File.Delete(theirs);
        File.WriteAllText(theirs, "someone else's");

        var r = Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", set.Torrent, save);
        var error = Assert.Single(r.Errors);
        Assert.Equal("TorrentLayoutPathExists,Hashall.PowerShell.Torrents.AddHashallTorrentCommand", error.FullyQualifiedErrorId);
        var rolled = Assert.Single(r.Output);
        Assert.Equal(("RolledBack", "TorrentLayoutPathExists", true), (Status(rolled), (string)rolled.Properties["ErrorId"].Value, (bool)rolled.Properties["Resumed"].Value));
        // The torrent it added is gone from qBittorrent, its four links and emptied folders are gone; their file stays.
        Assert.Null(_qbt.State(set.Hash));
        Assert.Equal([Path.Combine(save, "Set"), Path.Combine(save, "Set", "part2"), theirs], Names(save));
        Assert.Equal("someone else's", File.ReadAllText(theirs));
        for (int i = 0; i < 5; i++)
            Assert.Equal(1L, Stat(Path.Combine(Data, $"loose/file-{i}.dat")).Links);

        // Out of the way, a new run starts afresh and seeds it.
        File.Delete(theirs);
        var again = Assert.Single(Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", set.Torrent, save).Succeeded().Output);
        Assert.Equal(("Added", 5, false, 1.0), (Status(again), (int)again.Properties["Links"].Value, (bool)again.Properties["Resumed"].Value, (double)again.Properties["Progress"].Value));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AfterAKillARerunRefusedForAnotherReasonOrAtAnotherSavePathKeepsTheJobAndAGoodRerunResumesIt()
    {
        for (int i = 0; i < 4; i++)
            Release($"Kept/part{i}/f{i}.bin", 30_000 + i, 300 + i, $"kept/file-{i}.dat");
        var kept = MakeTorrent("Kept");
        Release("Other/o.bin", 20_000, 310, "kept/other.dat");
        var other = MakeTorrent("Other");
        Scan();
        string save = Path.Combine(_seeds, "kept");
        string run = $"Import-Module '{ModuleFolder.Manifest}'; Find-HashallTorrentData '{kept.Torrent}' -Database '{Db}' | Add-HashallTorrent -Uri '{_qbt.Url}' -SavePath '{save}' -Database '{Db}'";
        var (exit, output) = ChildShell.Run(run, new Dictionary<string, string> { ["HASHALL_FAULT"] = "seed-add:1" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        string[] laidOut = Names(save);
        Assert.Equal(4, Directory.EnumerateFiles(save, "*", SearchOption.AllDirectories).Count());
        Assert.NotNull(_qbt.State(kept.Hash));

        // A stale input (the .torrent file of the match is another torrent's now): refused, and the job stays as it is.
        var stale = Add("$m = Find-HashallTorrentData $args[1]; $m.TorrentFile = $args[2]; $m | Add-HashallTorrent -Uri $args[0] -SavePath $args[3]", other.Torrent, kept.Torrent, save);
        Assert.Empty(stale.Output);
        Assert.Equal("TorrentDataMismatch,Hashall.PowerShell.Torrents.AddHashallTorrentCommand", Assert.Single(stale.Errors).FullyQualifiedErrorId);
        Assert.Equal(laidOut, Names(save));
        Assert.NotNull(_qbt.State(kept.Hash));

        // Another save path: refused naming both; nothing is linked there, and the job and its torrent stay.
        string elsewhere = Path.Combine(_seeds, "elsewhere");
        var moved = Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", kept.Torrent, elsewhere);
        Assert.Empty(moved.Output);
        var error = Assert.Single(moved.Errors);
        Assert.Equal("TorrentResumeSavePathDiffers,Hashall.PowerShell.Torrents.AddHashallTorrentCommand", error.FullyQualifiedErrorId);
        Assert.Contains($"'{save}'", error.Exception.Message);
        Assert.Contains($"'{elsewhere}'", error.Exception.Message);
        Assert.Empty(Names(elsewhere));
        Assert.Equal(laidOut, Names(save));
        Assert.NotNull(_qbt.State(kept.Hash));

        // The good rerun resumes the job: the torrent the killed run added, checked at full, its links reused.
        var r = Assert.Single(Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2]", kept.Torrent, save).Succeeded().Output);
        Assert.Equal(("Added", 4, true, 1.0), (Status(r), (int)r.Properties["Links"].Value, (bool)r.Properties["Resumed"].Value, (double)r.Properties["Progress"].Value));
        Assert.Equal(save, _qbt.Info(kept.Hash)!.Value.SavePath.TrimEnd('/'));
        Assert.Equal(laidOut, Names(save));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void AnUnexpectedErrorEndsTheJobSoThatTheNextRunInTheSameSessionResumesIt()
    {
        for (int i = 0; i < 3; i++)
            Release($"Bug/f{i}.bin", 25_000 + i, 320 + i, $"bug/file-{i}.dat");
        var bug = MakeTorrent("Bug");
        Scan();
        string save = Path.Combine(_seeds, "bug");
        string add = $"Find-HashallTorrentData '{bug.Torrent}' -Database '{Db}' | Add-HashallTorrent -Uri '{_qbt.Url}' -SavePath '{save}' -Database '{Db}'";
        // One process (one session): the first run meets an error of a kind no step expects at its second link, the second run follows.
        string script = $"Import-Module '{ModuleFolder.Manifest}'; try {{ {add} }} catch {{ 'FIRST ' + $_.Exception.Message }}; {add} | ForEach-Object {{ \"SECOND $($_.Status) $($_.Resumed) $($_.Links)\" }}";
        var (_, output) = ChildShell.Run(script, new Dictionary<string, string> { ["HASHALL_FAULT"] = "seed-link:2:throw" });
        Assert.Contains("FIRST HASHALL_FAULT: thrown at seed-link #2", output);
        Assert.DoesNotContain("TorrentSeedBusy", output);
        Assert.Contains("SECOND Added True 3", output);
        Assert.Equal(1.0, _qbt.Info(bug.Hash)!.Value.Progress);
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void AKillWhileCopyingLeavesAHalfCopyThatTheRerunRemoves()
    {
        Release("Film/film.mkv", 300_000, 330, "films/Film (2001).mkv");
        Release("Film/film.srt", 200_000, 331, "films/Film (2001).srt");
        var film = MakeTorrent("Film");
        Scan();
        string pool = Tree.MountTmpfs("copies");
        string save = Path.Combine(pool, "seeds");
        string run = $"Import-Module '{ModuleFolder.Manifest}'; Find-HashallTorrentData '{film.Torrent}' -Database '{Db}' | Add-HashallTorrent -Uri '{_qbt.Url}' -SavePath '{save}' -AllowCopy -Database '{Db}'";
        // Killed when the second copy is written, not yet verified: the first is in place, the second a .part.
        var (exit, output) = ChildShell.Run(run, new Dictionary<string, string> { ["HASHALL_FAULT"] = "seed-copy:2" });
        Assert.NotEqual(0, exit);
        Assert.Contains("HASHALL_FAULT", output);
        Assert.Single(Names(pool), n => n.EndsWith(".part", StringComparison.Ordinal));
        Assert.Null(_qbt.State(film.Hash));

        var r = Assert.Single(Add("Find-HashallTorrentData $args[1] | Add-HashallTorrent -Uri $args[0] -SavePath $args[2] -AllowCopy", film.Torrent, save).Succeeded().Output);
        Assert.Equal(("Added", 2, true, 1.0), (Status(r), (int)r.Properties["Copies"].Value, (bool)r.Properties["Resumed"].Value, (double)r.Properties["Progress"].Value));
        Assert.DoesNotContain(Names(pool), n => n.EndsWith(".part", StringComparison.Ordinal));
        Assert.Equal([Path.Combine(save, "Film"), Path.Combine(save, "Film", "film.mkv"), Path.Combine(save, "Film", "film.srt")], Names(save));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void ARepairWhoseRecheckIsLostAsksAgainAndIsJudgedByTheCheckThatRan()
    {
        Release("Gone.S01/e1.mkv", 150_000, 51, "library/Gone/Gone 1x01.mkv");
        Release("Gone.S01/e2.mkv", 150_001, 52, null);
        var gone = MakeTorrent("Gone.S01");
        Scan();
        // qBittorrent seeds it at 100 %, then loses its folder while it is down: missingFiles.
        string old = Path.Combine(_seeds, "gone");
        Directory.CreateDirectory(old);
        TempTree.Run("cp", "-r", Path.Combine(_releases, "Gone.S01"), old);
        _qbt.Add(gone.Torrent, gone.Hash, old, _category);
        Assert.Equal(1.0, _qbt.Info(gone.Hash)!.Value.Progress);
        _qbt.Kill();
        Directory.Delete(Path.Combine(old, "Gone.S01"), true);
        _qbt.Restart();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_qbt.State(gone.Hash) != "missingFiles" && DateTime.UtcNow < deadline)
            Thread.Sleep(100);
        Assert.Equal("missingFiles", _qbt.State(gone.Hash));
        // Someone put a wrong e2.mkv (the right size, other bytes) where qBittorrent looks: the repair keeps it.
        Directory.CreateDirectory(Path.Combine(old, "Gone.S01"));
        var wrong = new byte[150_001];
        new Random(99).NextBytes(wrong);
        File.WriteAllBytes(Path.Combine(old, "Gone.S01", "e2.mkv"), wrong);

        Ps.Run("Sync-HashallPayload -Uri $args[0] -Category $args[1]", _qbt.Url, _category).Succeeded();
        // The first recheck request is lost on its way (as one sent while qBittorrent is busy with the torrent can be):
        // the torrent stays in missingFiles with the progress it reported before, which must not pass for a check.
        using var proxy = new LossyProxy(_qbt.Url, "/api/v2/torrents/recheck");
        var r = Assert.Single(Ps.Run("Get-HashallTorrent -State missingFiles -Category $args[1] | Find-HashallTorrentData -Uri $args[0] | Add-HashallTorrent -Repair -Uri $args[2]", _qbt.Url, _category, proxy.Url).Output);
        Assert.Equal(1, proxy.Dropped);
        // Judged by a check that ran (asked for again): e1's pieces pass, e2's fail, so short of the 100 % promised;
        // left stopped, out of missingFiles, the wrong file kept.
        Assert.Equal(("Incomplete", "TorrentProgressShort", 1, 1), (Status(r), (string)r.Properties["ErrorId"].Value, (int)r.Properties["Links"].Value, (int)r.Properties["Kept"].Value));
        double progress = (double)r.Properties["Progress"].Value;
        Assert.True(progress > 0.3 && progress < 0.6, $"progress {progress}, state {r.Properties["State"].Value}");
        Assert.NotEqual("missingFiles", (string)r.Properties["State"].Value);
        Assert.Equal(wrong, File.ReadAllBytes(Path.Combine(old, "Gone.S01", "e2.mkv")));
        Assert.Matches("^(paused|stopped)", _qbt.State(gone.Hash));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void ATorrentInMissingFilesIsRepairedWhereQBittorrentExpectsItsData()
    {
        Release("Lost.S01/e1.mkv", 150_000, 41, "library/Lost/Lost 1x01.mkv");
        Release("Lost.S01/e2.mkv", 150_001, 42, "library/Lost/Lost 1x02.mkv");
        var lost = MakeTorrent("Lost.S01");
        Scan();
        // qBittorrent seeds it from a folder that is then lost while it is down: it comes back as missingFiles.
        string old = Path.Combine(_seeds, "old");
        Directory.CreateDirectory(old);
        TempTree.Run("cp", "-r", Path.Combine(_releases, "Lost.S01"), old);
        _qbt.Add(lost.Torrent, lost.Hash, old, _category);
        // The user renamed a file in qBittorrent: the repair must lay it out under the new name.
        using (var http = new HttpClient { BaseAddress = new Uri(_qbt.Url + "api/v2/") })
        {
            var renamed = http.PostAsync("torrents/renameFile", new FormUrlEncodedContent(new Dictionary<string, string>
                { ["hash"] = lost.Hash, ["oldPath"] = "Lost.S01/e2.mkv", ["newPath"] = "Lost.S01/Extras/e2 renamed.mkv" })).GetAwaiter().GetResult();
            renamed.EnsureSuccessStatusCode();
        }
        var renameDeadline = DateTime.UtcNow.AddSeconds(20);
        while (!File.Exists(Path.Combine(old, "Lost.S01", "Extras", "e2 renamed.mkv")) && DateTime.UtcNow < renameDeadline)
            Thread.Sleep(50);
        Assert.True(File.Exists(Path.Combine(old, "Lost.S01", "Extras", "e2 renamed.mkv")));
        _qbt.Kill();
        Directory.Delete(Path.Combine(old, "Lost.S01"), true);
        _qbt.Restart();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_qbt.State(lost.Hash) != "missingFiles" && DateTime.UtcNow < deadline)
            Thread.Sleep(100);
        Assert.Equal("missingFiles", _qbt.State(lost.Hash));
        Ps.Run("Sync-HashallPayload -Uri $args[0] -Category $args[1]", _qbt.Url, _category).Succeeded();

        var r = Assert.Single(Add("Get-HashallTorrent -State missingFiles | Find-HashallTorrentData -Uri $args[0] | Add-HashallTorrent -Repair -Uri $args[0]").Succeeded().Output);
        Assert.Equal(("Repaired", lost.Hash, 2, 1.0), (Status(r), (string)r.Properties["Hash"].Value, (int)r.Properties["Links"].Value, (double)r.Properties["Progress"].Value));
        Assert.Equal(Stat(Path.Combine(Data, "library/Lost/Lost 1x01.mkv")).Inode, Stat(Path.Combine(old, "Lost.S01", "e1.mkv")).Inode);
        Assert.Equal(Stat(Path.Combine(Data, "library/Lost/Lost 1x02.mkv")).Inode, Stat(Path.Combine(old, "Lost.S01", "Extras", "e2 renamed.mkv")).Inode);
        Assert.False(File.Exists(Path.Combine(old, "Lost.S01", "e2.mkv")));
        var info = _qbt.Info(lost.Hash)!.Value;
        Assert.Equal((1.0, old), (info.Progress, info.SavePath.TrimEnd('/')));
        Assert.DoesNotContain("paused", info.State);
        Assert.Empty(Add("Get-HashallTorrent -State missingFiles").Succeeded().Output); // the sync after the repair recorded its new state
        // -State completes qBittorrent's states.
        var completions = Ps.Run("(TabExpansion2 'Get-HashallTorrent -State missing' 31).CompletionMatches.CompletionText").Succeeded().Output.Select(o => (string)o.BaseObject);
        Assert.Equal(new[] { "missingFiles" }, completions);
    }
}

/// <summary>
/// Forwards every request to a real qBittorrent, except the first one to <c>path</c>, which it answers 200
/// without passing it on: a request lost on its way.
/// </summary>
internal sealed class LossyProxy : IDisposable
{
    private readonly System.Net.HttpListener _listener = new();
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false });
    private readonly string _target;
    private readonly string _path;
    private int _dropped;

    public LossyProxy(string target, string path)
    {
        _target = target.TrimEnd('/');
        _path = path;
        Url = $"http://127.0.0.1:{QBittorrentFixture.FreePort()}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        Task.Run(Serve);
    }

    public string Url { get; }
    public int Dropped => Volatile.Read(ref _dropped);

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            System.Net.HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => Forward(context));
        }
    }

    private async Task Forward(System.Net.HttpListenerContext context)
    {
        using var response = context.Response;
        if (context.Request.Url!.AbsolutePath == _path && Interlocked.CompareExchange(ref _dropped, 1, 0) == 0)
            return; // 200, empty: qBittorrent never hears of it
        var request = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), _target + context.Request.RawUrl);
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        if (context.Request.HttpMethod != "GET")
        {
            request.Content = new ByteArrayContent(body.ToArray());
            if (context.Request.ContentType != null)
                request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
        }
        foreach (string name in new[] { "Cookie", "Referer", "Origin" })
            if (context.Request.Headers[name] is string value)
                request.Headers.TryAddWithoutValidation(name, value);
        using var answer = await _http.SendAsync(request);
        response.StatusCode = (int)answer.StatusCode;
        if (answer.Headers.TryGetValues("Set-Cookie", out var cookies))
            foreach (string cookie in cookies)
                response.AppendHeader("Set-Cookie", cookie);
        if (answer.Content.Headers.ContentType is { } type)
            response.ContentType = type.ToString();
        var bytes = await answer.Content.ReadAsByteArrayAsync();
        await response.OutputStream.WriteAsync(bytes);
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _http.Dispose();
    }
}
