using Hashall.Core.Torrents;
namespace Hashall.Core.Tests;
public class TmpAlloc
{
    [Fact]
    public void Measure()
    {
        foreach (var path in new[] { "/tmp/i13/gen.torrent", "/tmp/i13/large.torrent" })
        {
            byte[] data = File.ReadAllBytes(path);
            TorrentMetainfo.Parse(data);
            long a = GC.GetAllocatedBytesForCurrentThread();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = BencodeReader.Parse(data, null, TorrentLimits.Default);
            long b = GC.GetAllocatedBytesForCurrentThread();
            var t1 = sw.ElapsedMilliseconds;
            var m = TorrentMetainfo.Parse(data);
            long c = GC.GetAllocatedBytesForCurrentThread();
            File.AppendAllText("/tmp/i13/alloc.txt", $"{path} {data.Length} tokens {r.Count} bencode {(b - a) >> 20} MiB {t1} ms, total {(c - b) >> 20} MiB {sw.ElapsedMilliseconds - t1} ms files {m.Files.Count}\n");
        }
    }
}
