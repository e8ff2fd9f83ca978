using System.Security.Cryptography;
using System.Text;
using Hashall.Core.Payloads;

namespace Hashall.Core.Tests;

/// <summary>The payload hash against the specification's wording, on names whose UTF-16 and code-point orders differ.</summary>
public sealed class PayloadHashTests
{
    private static PayloadFile F(string path, long size, string? sha1) => new() { RelativePath = path, Size = size, Sha1 = sha1 };

    [Fact]
    public void CodePointOrderIsNotUtf16Order()
    {
        string bmpHigh = "\uFB01", astral = "😀"; // U+FB01 < U+1F600, but 0xFB01 > 0xD83D in UTF-16
        Assert.True(string.CompareOrdinal(astral, bmpHigh) < 0);
        Assert.True(CodePointComparer.Instance.Compare(bmpHigh, astral) < 0);
        Assert.True(CodePointComparer.Instance.Compare("a", "ab") < 0);
        Assert.Equal(0, CodePointComparer.Instance.Compare("x😀", "x😀"));
    }

    [Fact]
    public void HashIsSha256OfSortedLinesAndIgnoresInputOrder()
    {
        string s1 = new('1', 40), s2 = new('2', 40), s3 = new('3', 40);
        var files = new[] { F("root/😀.srt", 5, s1), F("root/\uFB01.srt", 5, s2), F("root/a.mkv", 10, s3) };
        string text = $"root/a.mkv|10|{s3}\nroot/\uFB01.srt|5|{s2}\nroot/😀.srt|5|{s1}\n";
        string expected = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
        Assert.Equal(expected, PayloadHash.Compute(files));
        Assert.Equal(expected, PayloadHash.Compute(files.Reverse()));
    }

    [Fact]
    public void SameNameSortsBySizeThenSha1AndUppercaseHashesAreLowered()
    {
        var a = PayloadHash.Compute(new[] { F("x", 2, new string('B', 40)), F("x", 1, new string('a', 40)) });
        string text = $"x|1|{new string('a', 40)}\nx|2|{new string('b', 40)}\n";
        Assert.Equal(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant(), a);
    }

    [Fact]
    public void ContentHashIgnoresNamesSortsLinesAsTextAndCountsEqualFiles()
    {
        string s1 = new('a', 40), s2 = new('b', 40);
        // Lines sort as text: "100|..." before "20|..."; an equal file twice counts twice.
        string text = $"100|{s2}\n20|{s1}\n20|{s1}\n";
        string expected = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
        Assert.Equal(expected, ContentHash.Compute(new[] { F("Show/E01.mkv", 20, s1), F("Show/E02.mkv", 20, s1), F("Show/x/😀.srt", 100, s2.ToUpperInvariant()) }));
        Assert.Equal(expected, ContentHash.Compute(new[] { F("b", 100, s2), F("a", 20, s1), F("c", 20, s1) }));
        Assert.NotEqual(expected, ContentHash.Compute(new[] { F("a", 20, s1), F("b", 100, s2) }));
        Assert.Null(ContentHash.Compute(new[] { F("a", 20, s1), F("b", 100, null) }));
    }

    [Fact]
    public void AnyFileWithoutSha1MakesTheHashNull()
    {
        Assert.Null(PayloadHash.Compute(new[] { F("a", 1, new string('1', 40)), F("b", 1, null) }));
    }
}
