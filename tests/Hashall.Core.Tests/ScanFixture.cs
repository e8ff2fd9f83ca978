using Hashall.Core;
using Hashall.Core.Catalog;
using Hashall.Core.Scanning;

namespace Hashall.Core.Tests;

/// <summary>Records what a scan reports.</summary>
internal sealed class RecordingObserver : IScanObserver
{
    public List<HashallException> Errors { get; } = new();
    public List<string> NestedMounts { get; } = new();
    public List<ScanProgress> Progress { get; } = new();
    public Action<ScanProgress>? OnProgress { get; set; }
    /// <summary>Runs on each error after it is recorded (may throw, as PowerShell's WriteError does under -ErrorAction Stop).</summary>
    public Action<HashallException>? OnError { get; set; }

    void IScanObserver.Progress(ScanProgress progress)
    {
        Progress.Add(new ScanProgress { FilesSeen = progress.FilesSeen, FilesHashed = progress.FilesHashed, BytesHashed = progress.BytesHashed, WalkDone = progress.WalkDone });
        OnProgress?.Invoke(progress);
    }

    void IScanObserver.Error(HashallException error)
    {
        Errors.Add(error);
        OnError?.Invoke(error);
    }

    void IScanObserver.NestedMount(string path, bool crossed) => NestedMounts.Add(path);
}

/// <summary>A scratch tree and a catalog, with helpers to scan and read back rows.</summary>
internal sealed class ScanFixture : IDisposable
{
    public ScanFixture()
    {
        Tree = new TempTree();
        Data = Tree.Path("data");
        Directory.CreateDirectory(Data);
        Db = Tree.Path("catalog.db");
    }

    public TempTree Tree { get; }
    public string Data { get; }
    public string Db { get; }
    public RecordingObserver Observer { get; private set; } = new();

    /// <summary><paramref name="size"/> pseudo-random bytes, the same for the same <paramref name="seed"/>.</summary>
    public static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public string Write(string relative, string content) => Tree.WriteFile(Path.Combine("data", relative), content);

    public string Write(string relative, byte[] content)
    {
        string full = Path.Combine(Data, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return full;
    }

    public ScanResult Scan(ScanOptions? options = null, CancellationToken cancel = default, params string[] roots) =>
        Scan(new RecordingObserver(), options, cancel, roots);

    public ScanResult Scan(RecordingObserver observer, ScanOptions? options = null, CancellationToken cancel = default, params string[] roots)
    {
        Observer = observer;
        using var db = CatalogDatabase.Open(Db);
        return new Scanner(db, options ?? new ScanOptions(), Observer).Run(roots.Length == 0 ? new[] { Data } : roots, cancel);
    }

    /// <summary>Rows by absolute path (through the device's mount point).</summary>
    public Dictionary<string, HashallFile> Rows(bool includeDeleted = true)
    {
        using var db = CatalogDatabase.Open(Db);
        return new FileQuery(db).Files(Array.Empty<CatalogScope>(), Array.Empty<string>(), includeDeleted).ToDictionary(f => f.FullName);
    }

    public HashallFile Row(string relative) => Rows()[Path.Combine(Data, relative)];

    public void Dispose() => Tree.Dispose();
}
