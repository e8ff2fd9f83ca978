using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Test-HashallTorrent the way a user types it: .torrent files made by mktorrent and libtorrent, data
/// damaged, cut short, removed and added to, torrents exported from a real qBittorrent, the catalog
/// remembering checks, and bit rot found against the catalog's SHA-1.
/// </summary>
public sealed class TorrentCheckCmdletTests : CatalogSessionTest, IClassFixture<QBittorrentFixture>
{
    private readonly QBittorrentFixture _qbt;
    private readonly string _torrents;

    public TorrentCheckCmdletTests(QBittorrentFixture qbt)
    {
        _qbt = qbt;
        _torrents = Tree.Path("torrents");
        Directory.CreateDirectory(_torrents);
    }

    /// <summary>A season folder with odd names: a space, a non-BMP character, a newline, a sub-folder.</summary>
    private string Season(string name, int seed)
    {
        Write($"{name}/ep01.mkv", 300_000, seed);
        Write($"{name}/ep02 final.mkv", 200_001, seed + 1);
        Write($"{name}/Subs/\U0001F600 en.srt", 5_000, seed + 2);
        Write($"{name}/Subs/odd\nname.nfo", 700, seed + 3);
        return Path.Combine(Data, name);
    }

    private static PSObject FileOf(PSObject check, string relative) =>
        ((IEnumerable<object>)check.Properties["Files"].Value).Select(PSObject.AsPSObject).Single(f => (string)f.Properties["RelativePath"].Value == relative);

    private static string Status(PSObject o) => o.Properties["Status"].Value.ToString()!;

    /// <summary>Inverts one byte; with <paramref name="keepTimes"/> the mtime is put back to the nanosecond (touch -r), as bit rot leaves it.</summary>
    private void Flip(string file, long offset, bool keepTimes)
    {
        string stamp = Tree.Path("stamp-" + Guid.NewGuid().ToString("N"));
        TempTree.Run("touch", "-r", file, stamp);
        using (var f = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = offset;
            int b = f.ReadByte();
            f.Position = offset;
            f.WriteByte((byte)(b ^ 0xFF));
        }
        if (keepTimes)
            TempTree.Run("touch", "-r", stamp, file);
        File.Delete(stamp);
    }

    [RequiresFact(Needs.QBittorrent)] // mktorrent comes with qBittorrent in .ci/run
    public void ATorrentFileGetsAVerdictPerFileAndTheCatalogRemembersACompleteCheck()
    {
        string season = Season("Show.S01", 1);
        var (torrent, hash) = QBittorrentFixture.MakeTorrent(season, _torrents, 15); // 32 KiB pieces
        TempTree.Age(season); // files written just now are racily clean: no check of them would be trusted later

        var first = Ps.Run("Test-HashallTorrent $args[0] -Path $args[1]", torrent, season).Succeeded();
        var check = Assert.Single(first.Output);
        Assert.Equal(("Complete", hash, false), (Status(check), (string)check.Properties["Hash"].Value, (bool)check.Properties["Remembered"].Value));
        Assert.Equal(0, Long(check, "PiecesBad"));
        Assert.Equal(Long(check, "PiecesTotal"), Long(check, "PiecesGood"));
        Assert.Equal(505_701, Long(check, "BytesRead"));
        Assert.Equal(4, ((IEnumerable<object>)check.Properties["Files"].Value).Count());
        Assert.Equal("Complete", Status(FileOf(check, "Subs/odd\nname.nfo")));
        Assert.Equal(torrent, (string)check.Properties["Source"].Value);

        // Unchanged: remembered, nothing read; -Force reads it all again.
        var again = Assert.Single(Ps.Run("Test-HashallTorrent $args[0] -Path $args[1] -Verbose", torrent, season).Succeeded().Output);
        Assert.True((bool)again.Properties["Remembered"].Value);
        Assert.Equal("Complete", Status(again));
        Assert.Equal(0, Long(again, "BytesRead"));
        var forced = Assert.Single(Ps.Run("Test-HashallTorrent $args[0] -Path $args[1] -Force", torrent, season).Succeeded().Output);
        Assert.Equal((false, 505_701L), ((bool)forced.Properties["Remembered"].Value, Long(forced, "BytesRead")));

        // mktorrent orders Subs/ first: ep02 spans stream bytes 305,700-505,700. One byte flipped at its
        // offset 100,000 (stream 405,700: piece 12, wholly inside ep02), times kept.
        Flip(Path.Combine(season, "ep02 final.mkv"), 100_000, keepTimes: true);
        File.WriteAllText(Path.Combine(season, "sample.txt"), "added by hand");
        var damagedRun = Ps.Run("$c = Test-HashallTorrent $args[0] -Path $args[1]; $c; $c.Problems -join '|'", torrent, season).Succeeded().Output;
        var damaged = damagedRun[0];
        Assert.Equal("Damaged", Status(damaged));
        Assert.Equal(1, Long(damaged, "PiecesBad"));
        var ep02 = FileOf(damaged, "ep02 final.mkv");
        Assert.Equal("Damaged", Status(ep02));
        Assert.Equal("87516-120283", string.Join(",", ((System.Collections.IEnumerable)ep02.Properties["BadRanges"].Value).Cast<object>()));
        Assert.Equal("Complete", Status(FileOf(damaged, "ep01.mkv")));
        Assert.Equal("Extra", Status(FileOf(damaged, "sample.txt")));
        Assert.Equal("Damaged ep02 final.mkv|Extra sample.txt", damagedRun[1].BaseObject);

        // The table a user sees, and -Quick, which reads first and last pieces only and so misses a middle piece.
        string table = Ps.Run("Test-HashallTorrent $args[0] -Path $args[1] | Out-Default", torrent, season).Succeeded().HostText;
        Assert.Matches(@"Damaged\s+16\s+1\s+.*Show\.S01\s+Damaged ep02 final\.mkv; Extra sample\.txt", table);
        var quick = Assert.Single(Ps.Run("Test-HashallTorrent $args[0] -Path $args[1] -Quick", torrent, season).Succeeded().Output);
        Assert.Equal(("Complete", true), (Status(quick), (bool)quick.Properties["Quick"].Value));
        Assert.True(Long(quick, "PiecesChecked") < Long(quick, "PiecesTotal"));
        Assert.True(Long(quick, "BytesRead") < 505_701);

        // Cut short and removed: Incomplete. The piece over ep01's lost end and ep02's start cannot be
        // checked, but that is no damage of ep02.
        Flip(Path.Combine(season, "ep02 final.mkv"), 100_000, keepTimes: false); // whole again
        File.Delete(Path.Combine(season, "Subs", "\U0001F600 en.srt"));
        using (var f = new FileStream(Path.Combine(season, "ep01.mkv"), FileMode.Open)) f.SetLength(250_000);
        var cut = Assert.Single(Ps.Run("Test-HashallTorrent $args[0] -Path $args[1]", torrent, season).Succeeded().Output);
        Assert.Equal("Incomplete", Status(cut));
        Assert.Equal("SizeMismatch", Status(FileOf(cut, "ep01.mkv")));
        Assert.Equal("Missing", Status(FileOf(cut, "Subs/\U0001F600 en.srt")));
        Assert.Equal("Complete", Status(FileOf(cut, "ep02 final.mkv")));
    }

    [RequiresFact(Needs.QBittorrent)]
    public void FoldersWildcardsAndPipedFilesWithBadInputNamedAndTheRestChecked()
    {
        string a = Season("A.S01", 10), b = Season("B.S01", 20);
        var ta = QBittorrentFixture.MakeTorrent(a, _torrents, 16);
        var tb = QBittorrentFixture.MakeTorrent(b, _torrents, 15);
        File.WriteAllBytes(Path.Combine(_torrents, "broken.torrent"), "d4:infod4:name"u8.ToArray());

        // A folder stands for its .torrent files; -SavePath holds each one's data at SavePath/Name.
        var r = Ps.Run("Test-HashallTorrent $args[0] -SavePath $args[1] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object { 'ERR ' + $_.FullyQualifiedErrorId + ' ' + $_.Exception.Message }", _torrents, Data);
        var checks = r.Output.Where(o => o.BaseObject is not string).ToList();
        Assert.Equal(new[] { "Complete", "Complete" }, checks.Select(Status));
        var err = Assert.Single(r.Output, o => o.BaseObject is string s && s.StartsWith("ERR "));
        Assert.StartsWith("ERR TorrentFileInvalid,", (string)err.BaseObject);
        Assert.Contains("broken.torrent", (string)err.BaseObject);

        // Piped files (as Get-ChildItem writes them), and wildcards; a torrent whose data is not there is Missing.
        var piped = Ps.Run("[IO.DirectoryInfo]::new($args[0]).GetFiles('?.S01*.torrent') | Test-HashallTorrent -SavePath $args[1]", _torrents, Tree.Path("elsewhere")).Succeeded();
        Assert.Equal(new[] { "Missing", "Missing" }, piped.Output.Select(Status));
        var wild = Ps.Run("Test-HashallTorrent ($args[0] + '/A*.torrent') -Path $args[1]", _torrents, a).Succeeded();
        Assert.Equal(ta.Hash, (string)Assert.Single(wild.Output).Properties["Hash"].Value);

        // A .torrent the catalog does not know needs a path; -Path with -SavePath is refused up front.
        var unknown = Ps.Run("Test-HashallTorrent $args[0] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId", tb.Torrent);
        Assert.Equal("TorrentContentPathUnknown,Hashall.PowerShell.Torrents.TestHashallTorrentCommand", Assert.Single(unknown.Output).BaseObject);
        var both = Ps.Run("Test-HashallTorrent $args[0] -Path $args[1] -SavePath $args[1]", tb.Torrent, b);
        Assert.Equal("TorrentPathConflict,Hashall.PowerShell.Torrents.TestHashallTorrentCommand", both.TerminatingErrorId);

        // "Don't create subfolder": a one-file torrent's file sits in a download folder among other files,
        // none of which is an extra of this torrent.
        Write("Film.2020/Film.2020.mkv", 70_000, 60);
        var film = QBittorrentFixture.MakeTorrent(Path.Combine(Data, "Film.2020"), _torrents, 15);
        Directory.CreateDirectory(Tree.Path("dl"));
        File.Move(Path.Combine(Data, "Film.2020", "Film.2020.mkv"), Tree.Path("dl", "Film.2020.mkv"));
        File.WriteAllText(Tree.Path("dl", "someone else's.txt"), "x");
        var flat = Assert.Single(Ps.Run("Test-HashallTorrent $args[0] -Path $args[1]", film.Torrent, Tree.Path("dl", "Film.2020.mkv")).Succeeded().Output);
        Assert.Equal("Complete", Status(flat));
        Assert.Equal(new[] { "Film.2020.mkv" }, ((IEnumerable<object>)flat.Properties["Files"].Value).Select(PSObject.AsPSObject).Select(f => (string)f.Properties["RelativePath"].Value));

        // -WhatIf names the torrent and reads nothing.
        var whatIf = Ps.Run("Test-HashallTorrent $args[0] -Path $args[1] -WhatIf", tb.Torrent, b).Succeeded();
        Assert.Empty(whatIf.Output);
        Assert.Contains("B.S01", whatIf.HostText);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void TorrentsFromQBittorrentAreExportedCheckedWhereTheySeedAndBitRotIsFoundAgainstTheCatalog()
    {
        string category = "check-" + Guid.NewGuid().ToString("N")[..8];
        string v1 = Season("V1.S01", 30), hybrid = Season("Hybrid.S01", 40);
        var t1 = QBittorrentFixture.MakeTorrent(v1, _torrents, 15);
        var th = QBittorrentFixture.MakeHybridTorrent(hybrid, _torrents);
        _qbt.Add(t1.Torrent, t1.Hash, Data, category);
        _qbt.Add(th.Torrent, th.Hash, Data, category);
        // A folder of one file: qBittorrent's content path is the file itself, not the folder.
        Write("Film.2019/Film.2019.mkv", 100_000, 50);
        var tf = QBittorrentFixture.MakeTorrent(Path.Combine(Data, "Film.2019"), _torrents, 15);
        _qbt.Add(tf.Torrent, tf.Hash, Data, category);
        Assert.EndsWith("Film.2019/Film.2019.mkv", _qbt.Info(tf.Hash)!.Value.ContentPath);
        Ps.Run("Invoke-HashallScan $args[0]; Sync-HashallPayload -Uri $args[1] -Category $args[2]", Data, _qbt.Url, category).Succeeded();
        TempTree.Age(Data);
        Ps.Run("Invoke-HashallScan $args[0]", Data).Succeeded(); // hashes no longer racily clean

        var all = Ps.Run("Get-HashallTorrent -Category $args[1] | Test-HashallTorrent -Uri $args[0]", _qbt.Url, category).Succeeded().Output;
        Assert.Equal(new[] { "Complete", "Complete", "Complete" }, all.Select(Status));
        Assert.Equal(new[] { "Hybrid", "V1", "V1" }, all.Select(o => o.Properties["Version"].Value.ToString()).OrderBy(x => x));
        Assert.Contains(all, o => (string)o.Properties["ContentPath"].Value == Path.Combine(Data, "Film.2019"));
        Assert.All(all, o => Assert.StartsWith("qBittorrent ", (string)o.Properties["Source"].Value));

        // A byte goes bad with size and times unchanged: damaged since its last scan, a warning, and the next scan reads it again.
        string rotten = Path.Combine(v1, "ep01.mkv");
        Flip(rotten, 150_000, keepTimes: true);
        // Real bit rot moves no timestamp; this write moved ctime, so the catalog is given the new one: only a check can tell now.
        Ps.Run(@"$ct = [Hashall.Core.Platform.FileSystemApi]::Lstat($args[0]).CtimeNs
$c = [Microsoft.Data.Sqlite.SqliteConnection]::new(""Data Source=$($args[1]);Pooling=False""); $c.Open()
try { $cmd = $c.CreateCommand(); $cmd.CommandText = ""UPDATE files SET ctime_ns = $ct WHERE path LIKE '%/V1.S01/ep01.mkv'""; if ($cmd.ExecuteNonQuery() -ne 1) { throw 'no row' } } finally { $c.Dispose() }", rotten, Db).Succeeded();
        string before = (string)Ps.Run("(Get-HashallFile -LiteralPath $args[0]).Sha1", rotten).Succeeded().Output.Single().BaseObject;
        Ps.Run("Invoke-HashallScan $args[0]", v1).Succeeded();
        Assert.Equal(before, (string)Ps.Run("(Get-HashallFile -LiteralPath $args[0]).Sha1", rotten).Succeeded().Output.Single().BaseObject); // a scan alone sees nothing
        var rot = Ps.Run("Test-HashallTorrent -TorrentHash $args[1] -Uri $args[0]", _qbt.Url, t1.Hash).Succeeded();
        var check = Assert.Single(rot.Output);
        Assert.Equal("Damaged", Status(check));
        Assert.Contains("damaged since its last scan (bit rot)", (string)FileOf(check, "ep01.mkv").Properties["Detail"].Value);
        Assert.Contains(rot.Warnings, w => w.Contains(rotten));
        Ps.Run("Invoke-HashallScan $args[0]", v1).Succeeded();
        string after = (string)Ps.Run("(Get-HashallFile -LiteralPath $args[0]).Sha1", rotten).Succeeded().Output.Single().BaseObject;
        Assert.NotEqual(before, after);
        Assert.Equal(TempTree.Sha1Sum(rotten), after);

        // The hybrid torrent's .torrent file alone finds its content path in the catalog.
        var byFile = Assert.Single(Ps.Run("Test-HashallTorrent $args[0] -Force", th.Torrent).Succeeded().Output);
        Assert.Equal(("Complete", hybrid), (Status(byFile), ((string)byFile.Properties["ContentPath"].Value).TrimEnd('/')));

        // The hybrid torrent by its full v2 infohash (qBittorrent's id is its first 40 digits): found through the catalog.
        var byV2 = Assert.Single(Ps.Run("Test-HashallTorrent -TorrentHash $args[1] -Uri $args[0]", _qbt.Url, th.V2).Succeeded().Output);
        Assert.Equal(th.Hash, (string)byV2.Properties["Hash"].Value);

        // What is no whole hash is refused by name (a prefix would have matched a torrent in the catalog).
        var partial = Ps.Run("Test-HashallTorrent -TorrentHash $args[1], 'zz' -Uri $args[0] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId", _qbt.Url, th.V2[..8]);
        Assert.Equal(new[] { "TorrentHashInvalid,Hashall.PowerShell.Torrents.TestHashallTorrentCommand", "TorrentHashInvalid,Hashall.PowerShell.Torrents.TestHashallTorrentCommand" }, partial.Output.Select(o => (string)o.BaseObject));
        Assert.DoesNotContain(partial.Output, o => o.BaseObject is not string);

        // A hash qBittorrent does not have is named.
        var missing = Ps.Run("Test-HashallTorrent -TorrentHash 0123456789abcdef0123456789abcdef01234567 -Uri $args[0] -ErrorVariable e -ErrorAction SilentlyContinue; $e | ForEach-Object FullyQualifiedErrorId", _qbt.Url);
        Assert.Equal("TorrentNotFound,Hashall.PowerShell.Torrents.TestHashallTorrentCommand", Assert.Single(missing.Output).BaseObject);
    }

    [RequiresFact(Needs.QBittorrent)]
    public void ALargeTorrentShowsProgressWithTheTimeLeftAndCtrlCStopsItQuickly()
    {
        // 320 MiB in 5 files with 256 KiB pieces: crosses every read buffer and piece boundary many times.
        string big = Path.Combine(Data, "Big");
        Directory.CreateDirectory(big);
        for (int i = 0; i < 5; i++)
            TempTree.Run("sh", "-c", $"head -c {64 * 1048576 + i * 4099} /dev/urandom > '{Path.Combine(big, $"part{i}.bin")}'");
        long bytes = 5L * 64 * 1048576 + 10 * 4099;

        // Progress is polled every 250 ms, and one thread can hash 320 MiB from a warm cache in less than that:
        // on such a machine the torrent grows by hard links of its files (more bytes to read, no more disk)
        // until a check takes long enough to be watched. A check that read for a second or more with no record between
        // its first and last is a failure whatever the machine.
        string torrent = "";
        List<ProgressRecord> progress = new();
        PSObject check = null!;
        for (int round = 0; ; round++)
        {
            if (round > 0)
            {
                foreach (string file in Directory.GetFiles(big))
                    TempTree.Run("ln", file, file + $".r{round}");
                bytes *= 2;
                File.Delete(torrent);
            }
            (torrent, _) = QBittorrentFixture.MakeTorrent(big, _torrents, 18);
            progress = new List<ProgressRecord>();
            var r = Ps.Run("Test-HashallTorrent $args[0] -Path $args[1] -Force -ThrottleLimit 1", p => progress.Add(p), torrent, big).Succeeded();
            check = Assert.Single(r.Output);
            Assert.Equal("Complete", Status(check));
            Assert.Equal(bytes, Long(check, "BytesRead"));
            bool watched = progress.Any(p => p.PercentComplete > 0 && p.PercentComplete < 100);
            if (watched || (TimeSpan)check.Properties["Duration"].Value >= TimeSpan.FromSeconds(1) || round == 4)
                break;
        }
        Assert.Contains(progress, p => p.PercentComplete > 0 && p.PercentComplete < 100 && p.SecondsRemaining >= 0 && p.StatusDescription.Contains("/s"));

        // One hashing thread, stopped at the first progress record (written as reading starts): the check
        // ends without a result, and the catalog still holds the first run's check, not a half-read one.
        string CheckedAt() => Convert.ToString(Ps.Run(@"$c = [Microsoft.Data.Sqlite.SqliteConnection]::new(""Data Source=$($args[0]);Pooling=False""); $c.Open()
try { $cmd = $c.CreateCommand(); $cmd.CommandText = 'SELECT group_concat(checked_at) FROM torrent_checks'; $cmd.ExecuteScalar() } finally { $c.Dispose() }", Db).Succeeded().Output.Single().BaseObject)!;
        string before = CheckedAt();
        var stoppedAfter = Ps.RunAndStop("Test-HashallTorrent $args[0] -Path $args[1] -Force -ThrottleLimit 1", p => p.RecordType == ProgressRecordType.Processing, torrent, big);
        Assert.True(stoppedAfter < TimeSpan.FromSeconds(10), $"stopped after {stoppedAfter}"); // a hang guard
        Assert.Equal(before, CheckedAt());
    }
}
