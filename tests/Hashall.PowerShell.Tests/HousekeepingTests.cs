using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Seeding roots, link status (noHL) and orphans against a real qBittorrent, real files and, for the
/// recycle bin, a second device (tmpfs).
/// </summary>
public sealed class HousekeepingTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly int _seed = Random.Shared.Next(1, 1 << 30); // torrents unique in the qBittorrent the tests of this class share

    public HousekeepingTests(QBittorrentFixture qbt) => _qbt = qbt;

    private string Seeding => Path.Combine(Data, "seeding");
    private string Cross => Path.Combine(Data, "cross");
    private string Library => Path.Combine(Data, "library");

    private static void Link(string existing, string created)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(created)!);
        TempTree.Run("ln", existing, created);
    }

    /// <summary>
    /// seeding/ and cross/ are the seeding roots; library/ is outside them. Show.S01 (torrent, tagged
    /// noHL already) has e1.mkv linked from the library; Film (torrent) has film.srt unselected, film.mkv
    /// linked under another name in seeding/ and both linked from the cross-seed folder cross/Film;
    /// single.bin (torrent) has a link outside the catalogued tree (Unknown). Orphans: Show.S01/extra.nfo,
    /// orphan.bin, old/deep/leftover.bin, orphan-lib.bin (also in the library), the empty folder empty/;
    /// partial.!qB is excluded by name.
    /// </summary>
    private (string Show, string Film, string Single) MakeTree()
    {
        Write("seeding/Show.S01/e0.mkv", 40_000, _seed);
        Write("seeding/Show.S01/e1.mkv", 30_000, _seed + 1);
        Write("seeding/Film/film.mkv", 50_000, _seed + 2);
        Write("seeding/Film/film.srt", 2_000, _seed + 3);
        Write("seeding/single.bin", 20_000, _seed + 4);
        Directory.CreateDirectory(Tree.Path("torrents"));
        var show = QBittorrentFixture.MakeTorrent(Path.Combine(Seeding, "Show.S01"), Tree.Path("torrents"));
        var film = QBittorrentFixture.MakeTorrent(Path.Combine(Seeding, "Film"), Tree.Path("torrents"));
        var single = QBittorrentFixture.MakeTorrent(Path.Combine(Seeding, "single.bin"), Tree.Path("torrents"));
        _qbt.Add(show.Torrent, show.Hash, Seeding, tags: "noHL");
        _qbt.Add(film.Torrent, film.Hash, Seeding);
        _qbt.Add(single.Torrent, single.Hash, Seeding);
        int srt = _qbt.Files(film.Hash).FindIndex(f => f.Name.EndsWith("film.srt"));
        _qbt.SetFilePriority(film.Hash, 0, srt);
        Assert.Equal(0, _qbt.Files(film.Hash)[srt].Priority);

        Link(Path.Combine(Seeding, "Show.S01", "e1.mkv"), Path.Combine(Library, "Show e1.mkv"));
        Link(Path.Combine(Seeding, "Film", "film.mkv"), Path.Combine(Seeding, "renamed.mkv"));
        Link(Path.Combine(Seeding, "Film", "film.mkv"), Path.Combine(Cross, "Film", "film.mkv"));
        Link(Path.Combine(Seeding, "Film", "film.srt"), Path.Combine(Cross, "Film", "film.srt"));
        Link(Path.Combine(Seeding, "single.bin"), Tree.Path("elsewhere", "single.bin")); // never scanned
        Write("seeding/Show.S01/extra.nfo", 100, _seed + 5);
        Write("seeding/orphan.bin", 1_000, _seed + 6);
        Write("seeding/old/deep/leftover.bin", 3_000, _seed + 7);
        Write("seeding/orphan-lib.bin", 4_000, _seed + 8);
        Link(Path.Combine(Seeding, "orphan-lib.bin"), Path.Combine(Library, "orphan-lib.bin"));
        Write("seeding/partial.!qB", 500, _seed + 9);
        Directory.CreateDirectory(Path.Combine(Seeding, "empty"));
        TempTree.Age(Data);
        return (show.Hash, film.Hash, single.Hash);
    }

    private static List<string> Strings(RunResult r) => r.Output.Select(o => o.BaseObject.ToString()!).ToList();

    [RequiresFact(Needs.QBittorrent)]
    public void SeedingRootsAreStoredAndUsedByDefault()
    {
        Directory.CreateDirectory(Seeding);
        Directory.CreateDirectory(Cross);
        var added = Ps.Run("Add-HashallSeedingRoot $args[0], ($args[1] + '/')", Seeding, Cross).Succeeded().Output;
        Assert.Equal(new[] { Cross, Seeding }.Order(), added.Select(o => (string)o.Properties["Path"].Value).Order());
        Ps.Run("Add-HashallSeedingRoot $args[0]", Seeding).Succeeded(); // twice: kept once
        // Given through a symlink: stored as the path the scanner catalogues (symlinks resolved), so once.
        string link = Tree.Path("seedlink");
        TempTree.Run("ln", "-s", Seeding, link);
        Assert.Equal(Seeding, Ps.Run("Add-HashallSeedingRoot $args[0]", link).Succeeded().Output.Single().Properties["Path"].Value);
        Assert.Equal(new[] { Cross, Seeding }, Strings(Ps.Run("Get-HashallSeedingRoot | ForEach-Object Path").Succeeded()));
        Assert.Equal(new[] { Seeding }, Strings(Ps.Run("Get-HashallSeedingRoot '*seed*' | ForEach-Object Path").Succeeded()));

        var missing = Ps.Run("Add-HashallSeedingRoot $args[0]", Tree.Path("nope"));
        Assert.Equal("SeedingRootNotFound,Hashall.PowerShell.Housekeeping.AddHashallSeedingRootCommand", missing.Errors.Single().FullyQualifiedErrorId);
        Assert.Contains(Tree.Path("nope"), missing.Errors.Single().Exception.Message);
        // A given root that does not exist is refused by name, before anything else is asked.
        var notThere = Ps.Run("Get-HashallOrphan -Root $args[0]", Tree.Path("nope"));
        Assert.Equal("SeedingRootNotFound,Hashall.PowerShell.Housekeeping.GetHashallOrphanCommand", notThere.TerminatingErrorId);
        Assert.Contains(Tree.Path("nope"), notThere.Terminating!.Message);
        Assert.Equal("SeedingRootNotFound,Hashall.PowerShell.Payloads.GetHashallTorrentCommand",
            Ps.Run("Get-HashallTorrent -LinkStatus NotLinked -SeedingRoot $args[0]", Tree.Path("nope")).TerminatingErrorId);

        // -WhatIf removes nothing; the completer offers the stored roots.
        Ps.Run("Get-HashallSeedingRoot | Remove-HashallSeedingRoot -WhatIf").Succeeded();
        Assert.Equal(2, Ps.Run("Get-HashallSeedingRoot").Succeeded().Output.Count);
        var completed = Strings(Ps.Run("$line = \"Remove-HashallSeedingRoot -Database '$($args[0])' -Path cro\"; (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText", Db).Succeeded());
        Assert.Equal(new[] { $"'{Cross}'" }, completed);

        Ps.Run("Remove-HashallSeedingRoot $args[0] -Confirm:$false", Cross).Succeeded();
        Assert.Equal(new[] { Seeding }, Strings(Ps.Run("Get-HashallSeedingRoot | ForEach-Object Path").Succeeded()));
        var notStored = Ps.Run("Remove-HashallSeedingRoot $args[0] -Confirm:$false", Cross);
        Assert.Equal("SeedingRootNotStored,Hashall.PowerShell.Housekeeping.RemoveHashallSeedingRootCommand", notStored.Errors.Single().FullyQualifiedErrorId);

        // None stored and none given: a clear refusal from what needs them.
        Ps.Run("Remove-HashallSeedingRoot $args[0] -Confirm:$false", Seeding).Succeeded();
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        Assert.Equal("SeedingRootNotSet,Hashall.PowerShell.Payloads.GetHashallTorrentCommand", Ps.Run("Get-HashallTorrent -LinkStatus NotLinked").TerminatingErrorId);
        Assert.Equal("SeedingRootNotSet,Hashall.PowerShell.Housekeeping.GetHashallOrphanCommand", Ps.Run("Get-HashallOrphan").TerminatingErrorId);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void LinkStatusCountsOnlyLinksOutsideTheSeedingRootsAndTagsNoHL()
    {
        var (show, film, single) = MakeTree();
        Ps.Run("Invoke-HashallScan $args[0]; Add-HashallSeedingRoot $args[1], $args[2] | Out-Null; Sync-HashallPayload -Uri $args[3] | Out-Null", Data, Seeding, Cross, _qbt.Url).Succeeded();

        var torrents = Ps.Run("Get-HashallTorrent $args", show, film, single).Succeeded().Output
            .ToDictionary(t => (string)t.Properties["TorrentHash"].Value, t => t);
        string Status(string h) => torrents[h].Properties["LinkStatus"].Value.ToString()!;
        // A library link makes Show Linked; the cross-seed folder and a link under another name inside a root do not make Film Linked.
        Assert.Equal("Linked", Status(show));
        Assert.Equal(new[] { Path.Combine(Library, "Show e1.mkv") }, (string[])torrents[show].Properties["ExternalLinks"].Value);
        Assert.Equal("NotLinked", Status(film));
        Assert.Empty((string[])torrents[film].Properties["ExternalLinks"].Value);
        // A link the catalog does not know (outside every scanned tree): Unknown, not NotLinked.
        Assert.Equal("Unknown", Status(single));
        Assert.Equal(new[] { film }, Strings(Ps.Run("Get-HashallTorrent $args -LinkStatus NotLinked | ForEach-Object TorrentHash", show, film, single).Succeeded()));
        // -SeedingRoot overrides the stored roots: without cross/ as a root, its links are external.
        var narrow = Ps.Run("Get-HashallTorrent $args[0] -SeedingRoot $args[1]", film, Seeding).Succeeded().Output.Single();
        Assert.Equal("Linked", narrow.Properties["LinkStatus"].Value.ToString());
        Assert.Equal(new[] { Path.Combine(Cross, "Film", "film.mkv"), Path.Combine(Cross, "Film", "film.srt") }, (string[])narrow.Properties["ExternalLinks"].Value);

        // -WhatIf changes nothing in qBittorrent and says what it would do.
        var preview = Ps.Run("Set-HashallTorrentTag -Uri $args[0] -TorrentHash $args[1..3] -WhatIf", _qbt.Url, show, film, single).Succeeded();
        Assert.Contains($"Add tag 'noHL'", preview.HostText);
        Assert.Contains($"Remove tag 'noHL'", preview.HostText);
        Assert.Equal(new[] { "noHL" }, _qbt.Tags(show));
        Assert.Empty(_qbt.Tags(film));
        Assert.Empty(_qbt.Tags(single));

        var changes = Ps.Run("Set-HashallTorrentTag -Uri $args[0] -TorrentHash $args[1..3] -Confirm:$false", _qbt.Url, show, film, single).Succeeded().Output;
        Assert.Equal(new[] { $"Added {film}", $"Removed {show}" }, changes.Select(c => $"{c.Properties["Action"].Value} {c.Properties["TorrentHash"].Value}"));
        Assert.Empty(_qbt.Tags(show));
        Assert.Equal(new[] { "noHL" }, _qbt.Tags(film));
        Assert.Empty(_qbt.Tags(single)); // Unknown: left as it is
        // A second run has nothing to do.
        Assert.Empty(Ps.Run("Set-HashallTorrentTag -Uri $args[0] -TorrentHash $args[1..3] -Confirm:$false", _qbt.Url, show, film, single).Succeeded().Output);

        // A link made since the scan: a listing answers from the catalog and touches no disk; a -LinkStatus
        // filter (what scripts act on) reads each file's link count now and calls the film Unknown.
        Directory.CreateDirectory(Path.Combine(Tree.Root, "elsewhere"));
        Link(Path.Combine(Seeding, "Film", "film.srt"), Path.Combine(Tree.Root, "elsewhere", "film.srt"));
        Assert.Equal("NotLinked", Ps.Run("Get-HashallTorrent $args[0]", film).Succeeded().Output.Single().Properties["LinkStatus"].Value.ToString());
        Assert.Equal(new[] { film }, Strings(Ps.Run("Get-HashallTorrent $args -LinkStatus Unknown | ForEach-Object TorrentHash", show, film).Succeeded()));
    }

    [RequiresFact(Needs.QBittorrent | Needs.Tmpfs)]
    public void OrphansAreWhatNoTorrentUsesAndAreRemovedOnlyAfterARecheck()
    {
        var (show, film, _) = MakeTree();
        Ps.Run("Invoke-HashallScan $args[0]; Add-HashallSeedingRoot $args[1], $args[2] | Out-Null", Data, Seeding, Cross).Succeeded();
        // Never synced: refused (every file would look like an orphan).
        Assert.Equal("OrphanNoTorrents,Hashall.PowerShell.Housekeeping.GetHashallOrphanCommand", Ps.Run("Get-HashallOrphan").TerminatingErrorId);

        const string list = "Get-HashallOrphan -Exclude '*.!qB' | ForEach-Object { '{0}|{1}|{2}' -f $_.Reason, $_.FullName, $_.LinkedOutsideRoots }";
        var orphans = Strings(Ps.Run("Get-HashallOrphan -Sync -Uri $args[0] | Out-Null; " + list, _qbt.Url).Succeeded());
        string S(string relative) => Path.Combine(Seeding, relative);
        Assert.Equal(new[]
        {
            $"EmptyFolder|{S("empty")}|False",
            $"Unreferenced|{S("Show.S01/extra.nfo")}|False",
            $"Unreferenced|{S("old/deep/leftover.bin")}|False",
            $"Unreferenced|{S("orphan-lib.bin")}|True",
            $"Unreferenced|{S("orphan.bin")}|False",
        }.Order(), orphans.Order());
        // Without -Exclude the partial download is listed too; the unselected file is listed apart.
        Assert.Contains(S("partial.!qB"), Strings(Ps.Run("Get-HashallOrphan | ForEach-Object FullName").Succeeded()));
        var unselected = Ps.Run("Get-HashallOrphan -Unselected").Succeeded().Output.Single();
        Assert.Equal(S("Film/film.srt"), unselected.Properties["FullName"].Value);
        Assert.Equal("Unselected", unselected.Properties["Reason"].Value.ToString());
        var lib = Ps.Run("Get-HashallOrphan | Where-Object LinkedOutsideRoots").Succeeded().Output.Single();
        Assert.Equal(new[] { Path.Combine(Library, "orphan-lib.bin") }, (string[])lib.Properties["OutsideLinks"].Value);
        Assert.Equal(2L, lib.Properties["Links"].Value);
        // -MinimumAge: everything here was written just now.
        Assert.Empty(Ps.Run("Get-HashallOrphan -MinimumAge 1.00:00:00").Succeeded().Output);
        Assert.Empty(Ps.Run("Get-HashallOrphan -MinimumAge 1").Succeeded().Output); // a bare number is days, not ticks
        Assert.Empty(Ps.Run("Get-HashallOrphan -MinimumAge 12h").Succeeded().Output);

        // A scan after the last sync: refused until synced again.
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded();
        var stale = Ps.Run("Get-HashallOrphan");
        Assert.Equal("OrphanSyncStale,Hashall.PowerShell.Housekeeping.GetHashallOrphanCommand", stale.TerminatingErrorId);
        Assert.Contains("older than the last scan", stale.Terminating!.Message);
        Ps.Run("Sync-HashallPayload -Uri $args[0]", _qbt.Url).Succeeded();

        // The guard: more orphans than -MaximumCount refuses the whole run, nothing removed.
        var guarded = Ps.Run("Get-HashallOrphan -Exclude '*.!qB' | Remove-HashallOrphan -Uri $args[0] -MaximumCount 3 -Confirm:$false", _qbt.Url);
        Assert.Equal("OrphanLimitExceeded,Hashall.PowerShell.Housekeeping.RemoveHashallOrphanCommand", guarded.TerminatingErrorId);
        Assert.True(File.Exists(S("orphan.bin")) && File.Exists(S("Show.S01/extra.nfo")) && Directory.Exists(S("empty")));
        Assert.Equal("OrphanLimitExceeded,Hashall.PowerShell.Housekeeping.RemoveHashallOrphanCommand",
            Ps.Run("Remove-HashallOrphan -Uri $args[0] -Exclude '*.!qB' -MaximumBytes 1000 -Confirm:$false", _qbt.Url).TerminatingErrorId);

        // A recycle bin on another device is refused: a move there would be a copy.
        string other = Tree.MountTmpfs("other");
        var otherBin = Ps.Run("Get-HashallOrphan -Exclude '*.!qB' | Remove-HashallOrphan -Uri $args[0] -RecycleBin $args[1] -Confirm:$false", _qbt.Url, Path.Combine(other, "bin"));
        Assert.Equal("OrphanRecycleBinOtherDevice,Hashall.PowerShell.Housekeeping.RemoveHashallOrphanCommand", otherBin.TerminatingErrorId);
        Assert.False(Directory.Exists(Path.Combine(other, "bin")));
        Assert.True(File.Exists(S("orphan.bin")));
        Assert.Equal("OrphanRecycleBinInsideRoot,Hashall.PowerShell.Housekeeping.RemoveHashallOrphanCommand",
            Ps.Run("Get-HashallOrphan -Exclude '*.!qB' | Remove-HashallOrphan -Uri $args[0] -RecycleBin $args[1] -Confirm:$false", _qbt.Url, S(".bin")).TerminatingErrorId);

        // Listed now; then orphan.bin becomes a torrent's file before the removal: it is kept.
        string bin = Tree.Path("bin");
        Ps.Run("$global:listed = @(Get-HashallOrphan -Exclude '*.!qB')").Succeeded();
        var late = QBittorrentFixture.MakeTorrent(S("orphan.bin"), Tree.Path("torrents"));
        _qbt.Add(late.Torrent, late.Hash, Seeding);

        // -WhatIf: the same decisions, nothing moved.
        var preview = Ps.Run("$global:listed | Remove-HashallOrphan -Uri $args[0] -RecycleBin $args[1] -WhatIf", _qbt.Url, bin).Succeeded();
        var would = preview.Output.Single();
        Assert.Equal(2, would.Properties["MovedToRecycleBin"].Value);
        Assert.Equal(3, would.Properties["FoldersRemoved"].Value); // empty/, and old/deep and old, which the moves would leave empty
        Assert.Contains($"Remove folder left empty by the orphans' removal\" on target \"{S("old")}\"", preview.HostText);
        Assert.Equal(2, would.Properties["Kept"].Value); // orphan.bin (a torrent's now) and orphan-lib.bin (linked outside)
        Assert.Contains("Move orphan to the recycle bin", preview.HostText);
        Assert.True(File.Exists(S("Show.S01/extra.nfo")) && File.Exists(S("old/deep/leftover.bin")) && Directory.Exists(S("empty")));
        Assert.False(Directory.Exists(bin));

        var run = Ps.Run("$global:listed | Remove-HashallOrphan -Uri $args[0] -RecycleBin $args[1] -Confirm:$false", _qbt.Url, bin).Succeeded();
        var done = run.Output.Single();
        Assert.Equal(2, done.Properties["MovedToRecycleBin"].Value);
        Assert.Equal(3, done.Properties["FoldersRemoved"].Value); // empty/, then old/deep and old, left empty
        Assert.Contains(run.Warnings, w => w.Contains(S("orphan.bin")) && w.Contains("a torrent's file now"));
        Assert.Contains(run.Warnings, w => w.Contains(S("orphan-lib.bin")) && w.Contains("outside the seeding roots"));
        string runDir = (string)done.Properties["RecycleBin"].Value;
        Assert.True(File.Exists(Path.Combine(runDir, S("Show.S01/extra.nfo").TrimStart('/'))), "kept its path in the bin");
        Assert.True(File.Exists(Path.Combine(runDir, S("old/deep/leftover.bin").TrimStart('/'))));
        Assert.False(File.Exists(S("Show.S01/extra.nfo")));
        Assert.False(Directory.Exists(S("old")));
        Assert.False(Directory.Exists(S("empty")));
        Assert.True(File.Exists(S("orphan.bin")));
        Assert.True(File.Exists(S("orphan-lib.bin")));
        // Torrent data and its other names untouched.
        foreach (string kept in new[] { "Show.S01/e0.mkv", "Show.S01/e1.mkv", "Film/film.mkv", "Film/film.srt", "renamed.mkv", "single.bin" })
            Assert.True(File.Exists(S(kept)), kept);
        Assert.True(File.Exists(Path.Combine(Cross, "Film", "film.mkv")));
        // The catalog knows they are gone.
        Assert.Empty(Ps.Run("Get-HashallFile -Path $args[0]", S("Show.S01/extra.nfo")).Succeeded().Output);

        // A negative age is refused (it would empty every run), and nothing goes.
        var negative = Ps.Run("Remove-HashallOrphan -EmptyRecycleBin -RecycleBin $args[0] -OlderThan -1 -Confirm:$false", bin);
        Assert.StartsWith("ParameterArgumentTransformationError,", negative.TerminatingErrorId);
        Assert.Contains("negative duration", negative.Terminating!.Message);
        Assert.StartsWith("ParameterArgumentTransformationError,", Ps.Run("Get-HashallOrphan -MinimumAge '-12h'").TerminatingErrorId);
        Assert.True(Directory.Exists(runDir));
        // Emptying the bin by age: a run younger than -OlderThan stays.
        var young = Ps.Run("Remove-HashallOrphan -EmptyRecycleBin -RecycleBin $args[0] -OlderThan 1.00:00:00 -Confirm:$false", bin).Succeeded().Output.Single();
        Assert.Equal(0, young.Properties["Runs"].Value);
        Assert.True(Directory.Exists(runDir));
        var emptied = Ps.Run("Remove-HashallOrphan -EmptyRecycleBin -RecycleBin $args[0] -OlderThan 0 -Confirm:$false", bin).Succeeded().Output.Single();
        Assert.Equal(1, emptied.Properties["Runs"].Value);
        Assert.Equal(2, emptied.Properties["Files"].Value);
        Assert.False(Directory.Exists(runDir));
        _ = (show, film);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void TorrentFilesUnderASymlinkedSavePathOrStillDownloadingAreNotOrphans()
    {
        string S(string relative) => Path.Combine(Seeding, relative);
        // Linked/ is given to qBittorrent through a symlink to seeding/ (its paths differ from the catalog's);
        // dl/part.bin is still being downloaded (qBittorrent's part.bin.!qB) and its torrent has a part file
        // (.<hash>.parts) in its save path. stray.bin and a part file of no torrent are the orphans.
        Write("seeding/Linked/a.bin", 20_000, _seed);
        Write("seeding/Linked/b.bin", 30_000, _seed + 1);
        Write("seeding/dl/part.bin", 10_000, _seed + 2);
        Write("seeding/stray.bin", 1_000, _seed + 3);
        Write("seeding/Done/c.bin", 5_000, _seed + 6);
        Directory.CreateDirectory(Tree.Path("torrents"));
        var linked = QBittorrentFixture.MakeTorrent(S("Linked"), Tree.Path("torrents"));
        var dl = QBittorrentFixture.MakeTorrent(S("dl"), Tree.Path("torrents"));
        var done = QBittorrentFixture.MakeTorrent(S("Done"), Tree.Path("torrents"));
        _qbt.Add(dl.Torrent, dl.Hash, Seeding);
        _qbt.Add(done.Torrent, done.Hash, Seeding);
        File.Move(S("dl/part.bin"), S("dl/part.bin.!qB"));
        Write($"seeding/.{dl.Hash.ToLowerInvariant()}.parts", 700, _seed + 4);
        string strayParts = $".{new string('0', 40)}.parts";
        Write("seeding/" + strayParts, 600, _seed + 5);
        string savedThrough = Tree.Path("seedlink");
        TempTree.Run("ln", "-s", Seeding, savedThrough);
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null; Add-HashallSeedingRoot $args[1] | Out-Null; Sync-HashallPayload -Uri $args[2] | Out-Null", Data, Seeding, _qbt.Url).Succeeded();

        // Listed before the Linked torrent is in qBittorrent: its files are orphans then.
        Ps.Run("$global:listed = @(Get-HashallOrphan)").Succeeded();
        var listed = Strings(Ps.Run("$global:listed | ForEach-Object FullName").Succeeded());
        Assert.Equal(new[] { S("Linked/a.bin"), S("Linked/b.bin"), S(strayParts), S("stray.bin") }.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));

        // A pipeline that brings nothing removes nothing and tags nothing (Done would be tagged noHL).
        var none = Ps.Run("Get-HashallOrphan | Where-Object { $false } | Remove-HashallOrphan -Uri $args[0] -Confirm:$false", _qbt.Url).Succeeded().Output.Single();
        Assert.Equal(0, none.Properties["Removed"].Value);
        Assert.True(File.Exists(S("stray.bin")) && File.Exists(S("Linked/a.bin")));
        Assert.Empty(Ps.Run("Get-HashallTorrent | Where-Object { $false } | Set-HashallTorrentTag -Uri $args[0] -Confirm:$false", _qbt.Url).Succeeded().Output);
        Assert.Empty(_qbt.Tags(done.Hash));
        // A hash it does not know: a TorrentNotFound error naming it, and the others are tagged.
        string unknown = new string('e', 40);
        var tagged = Ps.Run("Set-HashallTorrentTag -Uri $args[0] -TorrentHash $args[1], $args[2] -Confirm:$false", _qbt.Url, unknown, done.Hash);
        Assert.Equal("TorrentNotFound,Hashall.PowerShell.Housekeeping.SetHashallTorrentTagCommand", tagged.Errors.Single().FullyQualifiedErrorId);
        Assert.Contains(unknown, tagged.Errors.Single().Exception.Message);
        Assert.Equal(new[] { $"Added {done.Hash}" }, tagged.Output.Select(c => $"{c.Properties["Action"].Value} {c.Properties["TorrentHash"].Value}"));
        Assert.Equal(new[] { "noHL" }, _qbt.Tags(done.Hash));

        // A recycle bin that cannot be made (its parent is a file): each orphan is kept with why, nothing escapes.
        File.WriteAllText(Tree.Path("not-a-folder"), "x");
        var unwritable = Ps.Run("$global:listed | Remove-HashallOrphan -Uri $args[0] -RecycleBin $args[1] -Confirm:$false", _qbt.Url, Tree.Path("not-a-folder", "bin")).Succeeded();
        Assert.Equal(0, unwritable.Output.Single().Properties["MovedToRecycleBin"].Value);
        Assert.Equal(4, unwritable.Output.Single().Properties["Kept"].Value);
        Assert.Contains(unwritable.Warnings, w => w.Contains(S("stray.bin")) && w.Contains("could not take it"));
        Assert.True(File.Exists(S("stray.bin")));

        // Now qBittorrent seeds Linked/ from the symlinked save path: the removal keeps its (single-link) files.
        _qbt.Add(linked.Torrent, linked.Hash, savedThrough);
        Assert.StartsWith(savedThrough, _qbt.Info(linked.Hash)!.Value.ContentPath);
        var run = Ps.Run("$global:listed | Remove-HashallOrphan -Uri $args[0] -Confirm:$false", _qbt.Url).Succeeded();
        Assert.Equal(2, run.Output.Single().Properties["Removed"].Value);
        Assert.Contains(run.Warnings, w => w.Contains(S("Linked/a.bin")) && w.Contains("a torrent's file now"));
        foreach (string kept in new[] { "Linked/a.bin", "Linked/b.bin", "dl/part.bin.!qB", $".{dl.Hash.ToLowerInvariant()}.parts" })
            Assert.True(File.Exists(S(kept)), kept);
        Assert.False(File.Exists(S("stray.bin")));
        Assert.False(File.Exists(S(strayParts)));
        // Synced: its files, named by qBittorrent through the symlink, are no orphans.
        Ps.Run("Sync-HashallPayload -Uri $args[0] | Out-Null", _qbt.Url).Succeeded();
        Assert.Empty(Strings(Ps.Run("Get-HashallOrphan | ForEach-Object FullName").Succeeded()));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void ThousandsOfOrphansAcrossBatchesAreListedAndRemoved()
    {
        // 6,000 orphans (more than a write batch of 4,096 rows) beside a torrent of 300 files.
        const int orphans = 6_000, files = 300;
        for (int i = 0; i < files; i++)
            Write($"seeding/Pack/{i / 50:D2}/f{i:D4}.bin", 64, _seed + i);
        for (int i = 0; i < orphans; i++)
            Write($"seeding/junk/{i / 500:D2}/j{i:D5}.bin", 16, i);
        Directory.CreateDirectory(Tree.Path("torrents"));
        var pack = QBittorrentFixture.MakeTorrent(Path.Combine(Seeding, "Pack"), Tree.Path("torrents"));
        _qbt.Add(pack.Torrent, pack.Hash, Seeding);
        Ps.Run("Invoke-HashallScan $args[0] | Out-Null; Add-HashallSeedingRoot $args[1] | Out-Null", Data, Seeding).Succeeded();

        var listed = Ps.Run("@(Get-HashallOrphan -Sync -Uri $args[0]).Count", _qbt.Url).Succeeded();
        Assert.Equal(orphans, listed.Output.Single().BaseObject);
        var removed = Ps.Run("Remove-HashallOrphan -Uri $args[0] -MaximumCount $args[1] -Confirm:$false", _qbt.Url, orphans).Succeeded().Output.Single();
        Assert.Equal(orphans, removed.Properties["Removed"].Value);
        Assert.Equal(0, removed.Properties["Kept"].Value);
        Assert.False(Directory.Exists(Path.Combine(Seeding, "junk")));
        Assert.Equal(files, Directory.EnumerateFiles(Path.Combine(Seeding, "Pack"), "*", SearchOption.AllDirectories).Count());
        // Every row marked deleted (across write batches); the torrent's files stay active.
        Assert.Equal(0, Ps.Run("@(Get-HashallFile -Path $args[0]).Count", Path.Combine(Seeding, "junk")).Succeeded().Output.Single().BaseObject);
        Assert.Equal(files, Ps.Run("@(Get-HashallFile -Path $args[0]).Count", Path.Combine(Seeding, "Pack")).Succeeded().Output.Single().BaseObject);
        Assert.Empty(Ps.Run("Get-HashallOrphan").Succeeded().Output);
    }
}
