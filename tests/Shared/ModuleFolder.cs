namespace Hashall.Tests.Shared;

/// <summary>Where the repository and the built module folder are, found from the test's bin directory.</summary>
public static class ModuleFolder
{
    public static string RepoRoot { get; } = FindRepoRoot();
    public static string Path { get; } = System.IO.Path.Combine(RepoRoot, "out", "Hashall");
    public static string Manifest { get; } = System.IO.Path.Combine(Path, "Hashall.psd1");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Hashall.PowerShell.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Hashall.PowerShell.sln not found above " + AppContext.BaseDirectory);
    }
}
