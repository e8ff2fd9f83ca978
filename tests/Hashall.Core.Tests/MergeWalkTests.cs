using Hashall.Core.Catalog;
using Hashall.Core.Platform;
using Hashall.Core.Scanning;
using Microsoft.Data.Sqlite;

namespace Hashall.Core.Tests;

/// <summary>
/// The scan's walk visits paths in the catalog's key order and merges with the rows streamed from the
/// catalog in chunks: names that sort differently as UTF-16 and as UTF-8, directories against names
/// that extend theirs, renames, deletions, a stop, and trees larger than several chunks.
/// </summary>
public sealed class MergeWalkTests : IDisposable
{
    private readonly ScanFixture _f = new();

    public void Dispose() => _f.Dispose();

    /// <summary>Names whose UTF-16 ordinal order differs from their UTF-8 byte order, and names that extend a directory's.</summary>
    private static readonly string[] TrickyNames =
    {
        "\uFF21", "\uFF21b", "\U0001F600", "\U0001F600\uFF21", "\uE000", "\U00010000", "\uFFFD", "z",
        "a", "a-b", "a.b", "a0", "a b", "ab", "A", "é", "e\u0301",
    };

    [Fact]
    public void CatalogOrderIsSqliteBinaryOrderOfTheUtf8()
    {
        var paths = TrickyNames.SelectMany(n => new[] { n, n + "/x", n + "-", n + "/" + n }).Distinct().ToList();
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (p TEXT PRIMARY KEY);";
            create.ExecuteNonQuery();
        }
        foreach (var p in paths)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t VALUES ($p);";
            insert.Parameters.AddWithValue("$p", p);
            insert.ExecuteNonQuery();
        }
        var bySqlite = new List<string>();
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT p FROM t ORDER BY p;";
            using var reader = select.ExecuteReader();
            while (reader.Read())
                bySqlite.Add(reader.GetString(0));
        }
        var byOrder = paths.ToList();
        byOrder.Sort(CatalogOrder.Compare);
        Assert.Equal(bySqlite, byOrder);
        // The case the comparer exists for: ordinal UTF-16 order puts U+FF21 after U+1F600's surrogates.
        Assert.True(string.CompareOrdinal("\uFF21", "\U0001F600") > 0);
        Assert.True(CatalogOrder.Compare("\uFF21", "\U0001F600") < 0);
        // A directory sorts as its name and '/': after "a-b" and "a.b", before "a0".
        Assert.True(CatalogOrder.Compare("a", true, "a.b", false) > 0);
        Assert.True(CatalogOrder.Compare("a", true, "a0", false) < 0);
    }

    [Fact]
    public void AnUnchangedTreeOfNamesThatSortDifferentlyInUtf16AndUtf8IsAllUnchanged()
    {
        // Each name as a file at the top, as a folder holding every name, and as a file beside that folder's name.
        int files = 0;
        foreach (var top in TrickyNames)
        {
            _f.Write($"{top}-", $"beside {top}");
            files++;
            foreach (var inner in TrickyNames)
            {
                _f.Write($"{top}/{inner}", $"{top} {inner}");
                files++;
            }
        }
        foreach (var name in new[] { "a.b.c", "a-b-c", "ab0" })
        {
            _f.Write(name, name);
            files++;
        }
        TempTree.Age(_f.Data);
        var first = _f.Scan();
        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(files, first.Added);
        var ids = _f.Rows().ToDictionary(r => r.Key, r => r.Value.FileId);

        var again = _f.Scan();
        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(files, again.Unchanged);
        Assert.Equal(0, again.Hashed);
        Assert.Equal(0, again.Added);
        Assert.Equal(0, again.Deleted);
        var rows = _f.Rows();
        Assert.All(rows.Values, r => Assert.Equal("active", r.Status));
        Assert.Equal(ids, rows.ToDictionary(r => r.Key, r => r.Value.FileId));

        // One of each kind of change among them: a rename across folders (into a folder that sorts
        // before the source), a deletion, a new file.
        File.Move(Path.Combine(_f.Data, "\U0001F600", "\uFF21"), Path.Combine(_f.Data, "\uFF21", "moved-\U0001F600"));
        File.Delete(Path.Combine(_f.Data, "a", "a-b"));
        _f.Write("a/new", "new");
        var changed = _f.Scan();
        Assert.Empty(_f.Observer.Errors);
        Assert.Equal(1, changed.Moved);
        Assert.Equal(1, changed.Deleted);
        Assert.Equal(1, changed.Added);
        Assert.Equal(1, changed.Hashed);
        Assert.Equal(files - 2, changed.Unchanged);
        Assert.Equal(ids[Path.Combine(_f.Data, "\U0001F600", "\uFF21")], _f.Row("\uFF21/moved-\U0001F600").FileId);
        Assert.Equal("deleted", _f.Row("a/a-b").Status);
        Assert.Equal(files, _f.Rows(includeDeleted: false).Count);
    }

    [Fact]
    public void AStopMidWalkMarksNothingDeleted()
    {
        for (int i = 0; i < 600; i++)
            _f.Write($"d{i % 6}/f{i:D4}", $"file {i}");
        TempTree.Age(_f.Data);
        _f.Scan();
        // Gone from the first folder (passed before the stop) and from every later one.
        for (int i = 0; i < 600; i += 5)
            File.Delete(Path.Combine(_f.Data, $"d{i % 6}", $"f{i:D4}"));

        using var cts = new CancellationTokenSource();
        ScanResult stopped;
        using (var db = CatalogDatabase.Open(_f.Db))
        {
            // Stopped at the first report after the first folder: the walk is part-way through.
            var observer = new RecordingObserver { OnProgress = p => { if (p.FilesSeen >= 50) cts.Cancel(); } };
            stopped = new Scanner(db, new ScanOptions { ProgressInterval = TimeSpan.Zero }, observer).Run(new[] { _f.Data }, cts.Token);
        }
        Assert.False(stopped.Completed);
        Assert.True(stopped.Seen < 480, $"{stopped.Seen} files seen: the stop came too late to test anything");
        Assert.Equal(0, stopped.Deleted);
        Assert.All(_f.Rows().Values, r => Assert.Equal("active", r.Status));

        var next = _f.Scan();
        Assert.True(next.Completed);
        Assert.Equal(120, next.Deleted);
        Assert.Equal(480, _f.Rows(includeDeleted: false).Count);
    }

    [Fact]
    public void ARescanCrossingManyChunksFindsRenamesDeletionsAndNewFilesAndKeepsTheRest()
    {
        int chunk = CatalogCursor.ChunkRows;
        int big = chunk * 3 + 500; // one folder of more than three chunks
        string Big(int i) => $"big/f{i:D6}";
        for (int i = 0; i < big; i++)
            _f.Write(Big(i), $"big {i}");
        for (int d = 0; d < 3; d++) // and folders on either side of it, a chunk each
            for (int i = 0; i < chunk; i++)
                _f.Write($"{(d == 0 ? "a" : d == 1 ? "c" : "d")}/f{i:D6}", $"{d} {i}");
        int total = big + 3 * chunk;
        TempTree.Age(_f.Data);
        var first = _f.Scan();
        Assert.True(total > ScanWriter.WritingRows, "the first scan writes enough rows to grow the page cache mid-transaction");
        Assert.Equal(total, first.Added);
        var rows = _f.Rows();
        long IdOf(string relative) => rows[Path.Combine(_f.Data, relative)].FileId;

        // Deletions at and around the chunk boundaries, a rename within the big folder, renames across
        // folders both ways (to a folder walked before the source and to one walked after it).
        var deleted = new[] { 0, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk - 1, big - 1 }.Select(Big).Append("d/f000000").ToList();
        foreach (var path in deleted)
            File.Delete(Path.Combine(_f.Data, path));
        var renames = new Dictionary<string, string>
        {
            [Big(5)] = "big/g-renamed",
            [Big(2 * chunk + 7)] = "a/from-big",
            ["a/f000003"] = "d/from-a",
            ["d/f000009"] = "big/f000000x",
        };
        var renamedIds = renames.ToDictionary(r => r.Value, r => IdOf(r.Key));
        foreach (var (from, to) in renames)
            File.Move(Path.Combine(_f.Data, from), Path.Combine(_f.Data, to));
        // New files among the old ones in the big folder, enough to be hashed and written while the
        // walk is still there (their rows must not pass for old rows the walk went by).
        int added = 0;
        for (int i = 0; i < big; i += 4)
        {
            _f.Write($"big/f{i:D6}n", $"new {i}");
            added++;
        }

        var result = _f.Scan();
        Assert.Empty(_f.Observer.Errors);
        Assert.True(result.Completed);
        Assert.Equal(deleted.Count, result.Deleted);
        Assert.Equal(renames.Count, result.Moved);
        Assert.Equal(added, result.Added);
        Assert.Equal(added, result.Hashed);
        Assert.Equal(total - deleted.Count - renames.Count, result.Unchanged);

        var after = _f.Rows();
        foreach (var path in deleted)
            Assert.Equal("deleted", after[Path.Combine(_f.Data, path)].Status);
        foreach (var (path, id) in renamedIds)
        {
            var row = after[Path.Combine(_f.Data, path)];
            Assert.Equal(id, row.FileId);
            Assert.Equal("active", row.Status);
        }
        foreach (var from in renames.Keys)
            Assert.False(after.ContainsKey(Path.Combine(_f.Data, from)));
        var active = after.Values.Where(r => r.Status == "active").ToList();
        Assert.Equal(total - deleted.Count + added, active.Count);
        Assert.All(active, r => Assert.True(File.Exists(r.FullName), r.FullName));

        // And once more: nothing left to do.
        var still = _f.Scan();
        Assert.Equal(0, still.Deleted + still.Moved + still.Added + still.Changed); // the new files are racily clean: read again, unchanged
        Assert.Equal(total - deleted.Count + added, still.Unchanged);
    }
}
