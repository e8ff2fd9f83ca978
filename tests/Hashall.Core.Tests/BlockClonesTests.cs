using Hashall.Core.Platform;

namespace Hashall.Core.Tests;

/// <summary>Which FIDEDUPERANGE errors stop a clone plan (the filesystem cannot share blocks) and which fail one file, on real loop-mounted filesystems.</summary>
public sealed class BlockClonesTests : IDisposable
{
    private readonly TempTree _tree = new();

    public void Dispose() => _tree.Dispose();

    private static int Dedupe(string a, string b, long offset, long length)
    {
        Assert.Equal(0, BlockClones.OpenRead(a, out var fa));
        using (fa)
        {
            Assert.Equal(0, BlockClones.OpenRead(b, out var fb));
            using (fb)
                return BlockClones.Dedupe(fa, fb, offset, length, out _, out _);
        }
    }

    private static (string, string) Pair(string root)
    {
        var bytes = new byte[100_000];
        new Random(3).NextBytes(bytes);
        string a = Path.Combine(root, "a.bin"), b = Path.Combine(root, "b.bin");
        File.WriteAllBytes(a, bytes);
        File.WriteAllBytes(b, bytes);
        return (a, b);
    }

    [RequiresFact(Needs.Images)]
    public void ARangeTheKernelRefusesOnAFilesystemThatSharesBlocksFailsOneFileNotThePlan()
    {
        var (a, b) = Pair(_tree.MountImage("xfs", "xfs", "512M"));
        Assert.Equal(0, Dedupe(a, b, 0, 100_000)); // it shares blocks
        // A range past the end of the files (a file that shrank since the plan) and a range not aligned
        // to blocks: EINVAL, for this range only.
        foreach (var (offset, length) in new[] { (200_704L, 4096L), (1L, 4096L) })
        {
            int error = Dedupe(a, b, offset, length);
            Assert.Equal(BlockClones.EINVAL, error);
            Assert.False(BlockClones.MeansUnsupported(error));
        }
    }

    [RequiresFact(Needs.Images)]
    public void AFilesystemWithoutBlockSharingAnswersWithAnErrorThatStopsThePlan()
    {
        var (a, b) = Pair(_tree.MountImage("ext4", "ext4", "64M"));
        int error = Dedupe(a, b, 0, 100_000);
        Assert.NotEqual(0, error);
        Assert.True(BlockClones.MeansUnsupported(error), $"errno {error}");
    }
}
