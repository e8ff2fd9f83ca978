using System.Management.Automation;
using System.Management.Automation.Language;
using Hashall.Tests.Shared;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Every exported cmdlet has full help from the module folder's en-US: synopsis, description, every
/// parameter described, at least one example; the markdown sources and Pester files parse.
/// </summary>
public sealed class HelpTests : IDisposable
{
    private static readonly HashSet<string> CommonParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable",
        "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable",
    };

    private readonly PowerShellSession _ps = new();

    public void Dispose() => _ps.Dispose();

    private static List<string> ExportedCmdletNames()
    {
        using var ps = new PowerShellSession();
        return ps.Run("(Get-Module Hashall).ExportedCmdlets.Keys | ForEach-Object { $_ }").Succeeded().Output.Select(o => (string)o.BaseObject).Order().ToList();
    }

    public static TheoryData<string> ExportedCmdlets() => new(ExportedCmdletNames());

    [Theory]
    [MemberData(nameof(ExportedCmdlets))]
    public void CmdletHasFullHelp(string cmdlet)
    {
        var help = _ps.Run("Get-Help $args[0] -Full", cmdlet).Succeeded().Output.Single();
        string synopsis = ((string)help.Properties["Synopsis"].Value).Trim();
        Assert.False(string.IsNullOrWhiteSpace(synopsis));
        Assert.DoesNotContain(cmdlet + " [", synopsis); // the auto-generated stand-in is the syntax line

        var description = _ps.Run("(Get-Help $args[0] -Full).Description | ForEach-Object Text", cmdlet).Succeeded().Output;
        Assert.NotEmpty(description);

        var examples = _ps.Run("@((Get-Help $args[0] -Full).Examples.Example) | ForEach-Object Code", cmdlet).Succeeded().Output;
        Assert.NotEmpty(examples);
        foreach (var code in examples.Select(e => (string)e.BaseObject))
        {
            Parser.ParseInput(code, out _, out var errors);
            Assert.Empty(errors);
            Assert.Contains(cmdlet, code);
        }

        var parameters = _ps.Run("(Get-Command $args[0]).Parameters.Keys | ForEach-Object { $_ }", cmdlet).Succeeded()
            .Output.Select(o => (string)o.BaseObject).Where(p => !CommonParameters.Contains(p)).ToList();
        Assert.NotEmpty(parameters);
        foreach (var parameter in parameters)
        {
            var text = _ps.Run("(Get-Help $args[0] -Parameter $args[1]).Description | ForEach-Object Text", cmdlet, parameter).Succeeded().Output;
            Assert.True(text.Count > 0 && !string.IsNullOrWhiteSpace((string)text[0].BaseObject), $"{cmdlet} -{parameter} has no help text");
        }

        var shown = _ps.Run("Get-Help $args[0] -Full | Out-Default", cmdlet).Succeeded().HostText;
        Assert.Contains("SYNOPSIS", shown);
        Assert.Contains("-------------------------- Example 1", shown);
    }

    [Fact]
    public void AboutTopicIsFound()
    {
        // Found through the imported module's folder, without touching PSModulePath.
        var shown = _ps.Run("Get-Help about_Hashall | Out-Default").Succeeded().HostText;
        Assert.Contains("about_Hashall", shown);
        Assert.Contains("SHORT DESCRIPTION", shown);
    }

    [Fact]
    public void EveryCmdletHasAMarkdownPageInPlatyPSFormat()
    {
        foreach (var cmdlet in ExportedCmdletNames())
        {
            string page = Path.Combine(ModuleFolder.RepoRoot, "docs", cmdlet + ".md");
            Assert.True(File.Exists(page), page);
            string text = File.ReadAllText(page);
            Assert.StartsWith("---\ndocument type: cmdlet\n", text.Replace("\r\n", "\n"));
            Assert.Contains("PlatyPS schema version: 2024-05-01", text);
            foreach (var section in new[] { "## SYNOPSIS", "## SYNTAX", "## DESCRIPTION", "## EXAMPLES", "## PARAMETERS", "## INPUTS", "## OUTPUTS", "## NOTES", "## RELATED LINKS" })
                Assert.Contains("\n" + section + "\n", text);
            Assert.Contains($"\n# {cmdlet}\n", text);
        }
    }

    [Fact]
    public void PesterSuiteAndBuildScriptParse()
    {
        var files = Directory.GetFiles(Path.Combine(ModuleFolder.RepoRoot, "tests", "Pester"), "*.ps1").ToList();
        files.Add(Path.Combine(ModuleFolder.RepoRoot, "build.ps1"));
        Assert.True(files.Count >= 2);
        foreach (var file in files)
        {
            Parser.ParseFile(file, out _, out var errors);
            Assert.True(errors.Length == 0, file + ": " + string.Join("; ", errors.Select(e => $"{e.Extent.StartLineNumber}: {e.Message}")));
        }
    }
}
