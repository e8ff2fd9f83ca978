using System.Diagnostics;
using System.Text;
using Hashall.Core.Torrents;

namespace Hashall.Core.Tests;

/// <summary>
/// Hostile and broken .torrent files: real torrents (mktorrent, libtorrent) edited byte by byte or
/// re-encoded by libtorrent with one field made wrong, and thousands of seeded random mutations.
/// Each must parse into a self-consistent model or be refused with TorrentFileInvalid.
/// </summary>
public sealed class TorrentFuzzTests : IClassFixture<TorrentSamples>
{
    private readonly TorrentSamples _samples;

    public TorrentFuzzTests(TorrentSamples samples) => _samples = samples;

    private static TorrentFileInvalidException Refused(byte[] data, string because)
    {
        var e = Assert.Throws<TorrentFileInvalidException>(() => TorrentMetainfo.Parse(data, "x.torrent"));
        Assert.Equal("TorrentFileInvalid", e.ErrorId);
        Assert.Equal(HashallErrorKind.InvalidData, e.Kind);
        Assert.Contains(because, e.Reason);
        Assert.Contains($"at byte {e.Offset}: ", e.Message);
        Assert.Contains("'x.torrent'", e.Message);
        Assert.InRange(e.Offset, 0, data.Length);
        return e;
    }

    private static byte[] Replace(byte[] data, string from, string to)
    {
        int at = IndexOf(data, Encoding.ASCII.GetBytes(from));
        Assert.True(at >= 0, $"'{from}' is not in the sample");
        return [.. data[..at], .. Encoding.Latin1.GetBytes(to), .. data[(at + from.Length)..]];
    }

    private static int IndexOf(byte[] data, byte[] what) => data.AsSpan().IndexOf(what);

    /// <summary>A libtorrent re-encoding of a real torrent with one change (a Python statement on the bdecoded dict d).</summary>
    private byte[] Edited(string torrent, string statement)
    {
        string output = Path.Combine(_samples.Root, $"edited-{Guid.NewGuid():N}.torrent");
        TempTree.Run(TorrentSamples.Python, "-c", $"""
import libtorrent as lt, sys
d = lt.bdecode(open(sys.argv[1], "rb").read())
i = d[b"info"]
{statement}
open(sys.argv[2], "wb").write(lt.bencode(d))
""", torrent, output);
        return File.ReadAllBytes(output);
    }

    [Fact]
    public void MalformedBencodeIsRefusedAtItsOffset()
    {
        byte[] v1 = File.ReadAllBytes(_samples.V1[0]); // multi-file, piece length 32768
        TorrentMetainfo.Parse(v1); // the base parses
        int pl = IndexOf(v1, "12:piece lengthi"u8.ToArray()) + 15;

        Assert.Equal(pl, Refused(Replace(v1, "lengthi32768e", "lengthi032768e"), "leading zero").Offset);
        Assert.Equal(pl, Refused(Replace(v1, "lengthi32768e", "lengthi-0e"), "-0").Offset);
        Assert.Equal(pl, Refused(Replace(v1, "lengthi32768e", "lengthi99999999999999999999e"), "too large for 64 bits").Offset);
        Assert.Equal(pl, Refused(Replace(v1, "lengthi32768e", "lengthie"), "without digits").Offset);
        Assert.Equal(pl + 6, Refused(Replace(v1, "lengthi32768e", "lengthi32768xe"), "'x' inside the integer").Offset);
        Refused(Replace(v1, "lengthi32768e", "lengthi-32768e"), "piece length -32768");
        Refused(Replace(v1, "lengthi32768e", "lengthi0e"), "piece length 0");

        // A string longer than what remains; the file cut anywhere.
        int pieces = IndexOf(v1, "6:pieces"u8.ToArray()) + 8;
        Assert.Equal(pieces, Refused(v1[..(pieces + 40)], "where only").Offset);
        Refused(v1[..^1], "truncated");
        Refused(Replace(v1, "6:pieces", "06:pieces"), "leading zero");
        Refused([.. v1, (byte)'x'], "1 bytes of trailing garbage");
        Assert.Equal(v1.Length, Refused([.. v1, .. "de"u8.ToArray()], "trailing garbage").Offset);
        Refused([], "empty");

        // Keys: sorted (BEP 3), not repeated, strings.
        Refused(Replace(v1, "4:name", "4:zame"), "the key 'piece length' comes after 'zame'");
        Refused(Replace(v1, "4:name", "4:name8:Show.S014:name"), "appears twice");
        Refused(Replace(v1, "4:infod", "4:infodi1e"), "a dictionary key must be a string");
        Refused(Replace(v1, "d8:announce", "l8:announce"), "is not a dictionary");

        // Nesting: 150 lists where the announce URL was; the top dictionary is level 1, so the 100th list (level 101) is refused.
        string deep = new string('l', 150) + new string('e', 150);
        var e = Refused(Replace(v1, "8:announce27:http://127.0.0.1:1/announce", "8:announce" + deep), "nested deeper than 100");
        Assert.Equal(IndexOf(v1, "8:announce"u8.ToArray()) + 10 + 99, e.Offset);
    }

    [Fact]
    public void InvalidMetainfoIsRefused()
    {
        string multi = _samples.V1[0], hybrid = _samples.Hybrid[0], v2 = _samples.V2[0], single = _samples.V1[4];
        // The offset names the value at fault: here the 'pieces' string, the '..' component, the second of two equal paths.
        byte[] cut = Edited(multi, "i[b'pieces'] = i[b'pieces'][:-1]");
        Assert.Equal(IndexOf(cut, "6:pieces"u8.ToArray()) + 8, Refused(cut, "not a multiple of 20").Offset);
        byte[] dots = Edited(multi, "i[b'files'][3][b'path'] = [b'a', b'..']");
        Assert.Equal(IndexOf(dots, "l1:a2:..e"u8.ToArray()) + 4, Refused(dots, "a component of a file path is '..'").Offset);
        byte[] twice = Edited(multi, "i[b'files'][2][b'path'] = i[b'files'][1][b'path']");
        long second = Refused(twice, "two files have the path 'E02.mkv'").Offset;
        Assert.Equal((byte)'d', twice[second]);
        Assert.True(IndexOf(twice.AsSpan((int)second).ToArray(), "4:pathl7:E02.mkve"u8.ToArray()) < 40);
        Assert.True(IndexOf(twice, "4:pathl7:E02.mkve"u8.ToArray()) < second);
        Refused(Edited(multi, "i[b'pieces'] = i[b'pieces'][:-20]"), "hashes but");
        Refused(Edited(multi, "i[b'files'][0][b'length'] += 1000000"), "hashes but");
        Refused(Edited(multi, "i[b'files'][0][b'length'] = 2**55"), "add up to more than");
        Refused(Edited(multi, "i[b'files'][0][b'length'] = -1"), "negative");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = [b'..', b'x']"), "is '..'");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = [b'.']"), "is '.'");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = [b'a', b'']"), "is empty");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = []"), "has no components");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = [b'/etc', b'passwd']"), "contains '/'");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = [b'a\\x00b']"), "contains a NUL byte");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = [b'\\xff\\xfe']"), "not valid UTF-8");
        Refused(Edited(multi, "i[b'files'][0][b'path'] = [b'x' * 256]"), "longer than the 255");
        Refused(Edited(multi, "i[b'files'][1][b'path'] = i[b'files'][0][b'path']"), "two files have the path 'E01.mkv'");
        Refused(Edited(multi, "i[b'files'][1][b'path'] = i[b'files'][0][b'path'] + [b'x']"), "'E01.mkv' is a file and also the folder");
        Refused(Edited(multi, "i[b'name'] = b'..'"), "the torrent name is '..'");
        Refused(Edited(multi, "i[b'files'] = []"), "'files' list is empty");
        Refused(Edited(multi, "i[b'length'] = 5"), "both 'length'");
        Refused(Edited(multi, "del i[b'files']"), "neither 'length' nor 'files'");
        Refused(Edited(multi, "i[b'name'] = 5"), "'name' is an integer, not a string");
        Refused(Edited(single, "i[b'name'] = b'a/b'"), "contains '/'");
        Refused(Edited(single, "del i[b'pieces']"), "neither 'pieces'");

        Refused(Edited(v2, "i[b'piece length'] = 16384 * 3"), "not a power of two of at least 16 KiB");
        Refused(Edited(v2, "i[b'piece length'] = 8192"), "not a power of two of at least 16 KiB");
        Refused(Edited(v2, "i[b'meta version'] = 3"), "meta version 3 is not supported");
        Refused(Edited(v2, "del i[b'meta version']"), "without 'meta version' 2");
        Refused(Edited(v2, "i[b'file tree'][b'..'] = i[b'file tree'][b'E01.mkv']"), "is '..'");
        Refused(Edited(v2, "i[b'file tree'][b'Subs'] = {}"), "folder 'Subs' of the file tree is empty");
        Refused(Edited(v2, "i[b'file tree'][b'E01.mkv'][b''][b'pieces root'] = b'x' * 31"), "31 bytes, not 32");
        Refused(Edited(v2, "del i[b'file tree'][b'E01.mkv'][b''][b'pieces root']"), "has no 'pieces root'");
        Refused(Edited(v2, "i[b'file tree'][b'E01.mkv'][b'x'] = 1"), "has keys besides ''");
        Refused(Edited(v2, "del d[b'piece layers']"), "no layer for 'E01.mkv'");
        Refused(Edited(v2, "k = list(d[b'piece layers'])[0]; d[b'piece layers'][k] = d[b'piece layers'][k][:-32]"), "not the");
        Refused(Edited(v2, "k = list(d[b'piece layers'])[0]; v = bytearray(d[b'piece layers'][k]); v[5] ^= 1; d[b'piece layers'][k] = bytes(v)"), "does not hash to its pieces root");

        Refused(Edited(_samples.V2[^1], "i[b'file tree'][b'link'][b''][b'length'] = 5"), "the symlink 'link' has a length of 5 bytes");
        Refused(Edited(_samples.V2[^1], "i[b'file tree'][b'link'][b''][b'symlink path'] = [b'..', b'etc']"), "a component of a symlink target is '..'");
        Refused(Edited(_samples.V2[^1], "del i[b'file tree'][b'link'][b''][b'symlink path']"), "a symlink entry has no 'symlink path'");

        // Hybrid: the two halves must describe the same files, v1 aligned to pieces.
        Refused(Edited(hybrid, "i[b'files'][0][b'path'] = [b'E00.mkv']"), "hybrid torrent: the v1 file 'E00.mkv' is 'E01.mkv' in the v2 file tree");
        Refused(Edited(hybrid, "f = i[b'files']; f[0], f[2] = f[2], f[0]"), "hybrid torrent");
        Refused(Edited(hybrid, "del i[b'file tree'][b'zz']"), "hybrid torrent: the v1 file 'zz/last.bin' is not in the v2 file tree");
        Refused(Edited(hybrid, "i[b'file tree'][b'zzz'] = i[b'file tree'][b'E01.mkv']"), "hybrid torrent: the v2 file 'zzz' is not in the v1 file list");
        Refused(Edited(hybrid, "p = [f for f in i[b'files'] if b'attr' in f][0]; p[b'length'] += 1000; n = -(-sum(f[b'length'] for f in i[b'files']) // 16384); i[b'pieces'] = (i[b'pieces'] + b'x' * 40)[:n * 20]"), "not on a piece boundary");
    }

    [Fact]
    public void OverLimitsAreRefused()
    {
        byte[] v1 = File.ReadAllBytes(_samples.V1[0]);
        var small = new TorrentLimits { MaxFileSize = v1.Length - 1 };
        Assert.Contains("more than the", Assert.Throws<TorrentFileInvalidException>(() => TorrentMetainfo.Parse(v1, null, small)).Reason);
        var path = Path.Combine(_samples.Root, "limit.torrent");
        File.WriteAllBytes(path, v1);
        Assert.Equal(v1.Length - 1, Assert.Throws<TorrentFileInvalidException>(() => TorrentMetainfo.Load(path, small)).Offset);
        Assert.Contains("more than 20 bencoded values", Assert.Throws<TorrentFileInvalidException>(() => TorrentMetainfo.Parse(v1, null, new TorrentLimits { MaxTokens = 20 })).Reason);
        Assert.Contains("more than 1000 bytes", Assert.Throws<TorrentFileInvalidException>(() => TorrentMetainfo.Parse(v1, null, new TorrentLimits { MaxTotalLength = 1000 })).Reason);
        Assert.Equal("TorrentFileNotFound", Assert.Throws<HashallException>(() => TorrentMetainfo.Load(Path.Combine(_samples.Root, "none.torrent"))).ErrorId);
        Assert.Equal("TorrentFileUnreadable", Assert.Throws<HashallException>(() => TorrentMetainfo.Load(_samples.Root)).ErrorId);
        Assert.Equal("TorrentFileUnreadable", Assert.Throws<HashallException>(() => TorrentMetainfo.Load("/proc/self/mem")).ErrorId); // EIO
        Assert.Contains("cannot start a bencoded value", Assert.Throws<TorrentFileInvalidException>(() => TorrentMetainfo.Load("/proc/self/status")).Reason); // read although its size says 0
        var fifo = Path.Combine(_samples.Root, "fifo.torrent");
        TempTree.Run("mkfifo", fifo);
        var writer = new Thread(() => File.WriteAllBytes(fifo, v1));
        writer.Start();
        Assert.Equal(TorrentMetainfo.Parse(v1).Hash, TorrentMetainfo.Load(fifo).Hash); // a pipe has no length at all
        writer.Join();
    }

    /// <summary>
    /// Thousands of seeded mutations of real torrents (byte flips, truncations, insertions, deletions,
    /// length and integer edits, splices from other torrents): every parse ends, quickly and without
    /// huge allocation, in a self-consistent model or TorrentFileInvalid.
    /// </summary>
    [Fact]
    public void MutatedTorrentsParseOrAreRefusedCleanly()
    {
        var bases = _samples.All.Select(File.ReadAllBytes).ToArray();
        const int Rounds = 60_000;
        int parsed = 0, refused = 0;
        var reasons = new HashSet<string>();
        var total = Stopwatch.StartNew();
        for (int round = 0; round < Rounds; round++)
        {
            var random = new Random(round);
            byte[] data = bases[random.Next(bases.Length)];
            int mutations = 1 + random.Next(3);
            var applied = new List<string>();
            for (int m = 0; m < mutations; m++)
                data = Mutate(data, random, bases, applied);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var cpu = ThreadCpu.Now();
            try
            {
                var meta = TorrentMetainfo.Parse(data);
                TorrentChecks.AssertConsistent(meta);
                parsed++;
            }
            catch (TorrentFileInvalidException e)
            {
                Assert.InRange(e.Offset, 0, data.Length);
                reasons.Add(new string(e.Reason.TakeWhile(c => !char.IsDigit(c) && c != '\'').ToArray()));
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"round {round} ({string.Join(", ", applied)}): {e}");
            }
            cpu = ThreadCpu.Now() - cpu; // CPU time, not wall-clock: other test processes share the cores
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(cpu < TimeSpan.FromSeconds(2), $"round {round} ({string.Join(", ", applied)}) took {cpu} of CPU");
            Assert.True(allocated < 64L * data.Length + (4 << 20), $"round {round} ({string.Join(", ", applied)}) allocated {allocated} for {data.Length} bytes");
        }
        Console.WriteLine($"fuzz: {Rounds} mutated torrents, {parsed} parsed, {refused} refused ({reasons.Count} kinds of reason), {total.Elapsed.TotalSeconds:F1} s");
        // Not vacuous: many of each, and the refusals come from all over the parser.
        Assert.True(parsed > Rounds / 50, $"only {parsed} mutated torrents parsed");
        Assert.True(refused > Rounds / 2, $"only {refused} refused");
        Assert.True(reasons.Count > 25, $"only {reasons.Count} kinds of refusal: {string.Join(" | ", reasons)}");
    }

    private static byte[] Mutate(byte[] data, Random random, byte[][] bases, List<string> applied)
    {
        if (data.Length == 0)
            return data;
        int at = random.Next(data.Length);
        switch (random.Next(9))
        {
            case 0: // flip bits of one byte
            {
                var copy = (byte[])data.Clone();
                copy[at] ^= (byte)(1 << random.Next(8));
                applied.Add($"flip@{at}");
                return copy;
            }
            case 1: // set one byte to a bencode-significant character
            {
                var copy = (byte[])data.Clone();
                copy[at] = (byte)"ildeu0123456789:-/."[random.Next(19)];
                applied.Add($"set@{at}");
                return copy;
            }
            case 2: // truncate
                applied.Add($"cut@{at}");
                return data[..at];
            case 3: // insert random bytes
            {
                var extra = new byte[1 + random.Next(8)];
                random.NextBytes(extra);
                applied.Add($"insert{extra.Length}@{at}");
                return [.. data[..at], .. extra, .. data[at..]];
            }
            case 4: // delete a range
            {
                int n = Math.Min(1 + random.Next(64), data.Length - at);
                applied.Add($"delete{n}@{at}");
                return [.. data[..at], .. data[(at + n)..]];
            }
            case 5: // edit a string length or an integer
            {
                int digits = FindDigits(data, at);
                if (digits < 0)
                    goto case 0;
                int end = digits;
                while (end < data.Length && data[end] >= '0' && data[end] <= '9' && end - digits < 18)
                    end++;
                long value = long.Parse(Encoding.ASCII.GetString(data, digits, end - digits));
                string[] choices = [(value + 1).ToString(), (value - 1).ToString(), (value * 2).ToString(), "0", "00", "0" + value, "-" + value,
                    "9999999999", "99999999999999999999", (value + 20).ToString(), (value / 2).ToString(), ""];
                string replacement = choices[random.Next(choices.Length)];
                applied.Add($"number@{digits}:{value}->{replacement}");
                return [.. data[..digits], .. Encoding.ASCII.GetBytes(replacement), .. data[end..]];
            }
            case 6: // splice a chunk of another torrent over this one
            {
                byte[] other = bases[random.Next(bases.Length)];
                int from = random.Next(other.Length);
                int n = Math.Min(1 + random.Next(200), other.Length - from);
                applied.Add($"splice{n}@{at}");
                return [.. data[..at], .. other.AsSpan(from, n), .. data[Math.Min(data.Length, at + n)..]];
            }
            case 7: // duplicate a chunk of itself
            {
                int n = Math.Min(1 + random.Next(100), data.Length - at);
                int to = random.Next(data.Length);
                applied.Add($"duplicate{n}@{at}->{to}");
                return [.. data[..to], .. data.AsSpan(at, n), .. data[to..]];
            }
            default: // swap two bytes
            {
                var copy = (byte[])data.Clone();
                int other = random.Next(data.Length);
                (copy[at], copy[other]) = (copy[other], copy[at]);
                applied.Add($"swap@{at},{other}");
                return copy;
            }
        }
    }

    /// <summary>The start of the first run of digits at or after an offset (a string length or an integer), or -1.</summary>
    private static int FindDigits(byte[] data, int at)
    {
        for (int i = at; i < data.Length; i++)
            if (data[i] >= '0' && data[i] <= '9' && (i + 1 < data.Length) && (data[i + 1] == ':' || data[i + 1] == 'e' || (data[i + 1] >= '0' && data[i + 1] <= '9')))
            {
                int start = i;
                while (start > 0 && data[start - 1] >= '0' && data[start - 1] <= '9')
                    start--;
                return start;
            }
        return -1;
    }
}
