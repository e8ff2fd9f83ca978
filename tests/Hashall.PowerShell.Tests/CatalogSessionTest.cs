using System.Management.Automation;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>What the cmdlet test classes share: a scratch tree with a data directory, a catalog, and a session on it.</summary>
public abstract class CatalogSessionTest : IDisposable
{
    protected CatalogSessionTest()
    {
        Tree = new TempTree();
        Db = Tree.Path("catalog.db");
        Data = Tree.Path("data");
        Directory.CreateDirectory(Data);
        Ps = new PowerShellSession(Db);
    }

    protected TempTree Tree { get; }
    protected string Db { get; }
    protected string Data { get; }
    protected PowerShellSession Ps { get; }

    /// <summary>Writes <paramref name="size"/> pseudo-random bytes (fixed by <paramref name="seed"/>) under the data directory.</summary>
    protected string Write(string relative, int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        string full = Path.Combine(Data, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    protected static long Long(PSObject o, string name) => Convert.ToInt64(o.Properties[name].Value);

    public void Dispose()
    {
        Ps.Dispose();
        Tree.Dispose();
        GC.SuppressFinalize(this);
    }
}
