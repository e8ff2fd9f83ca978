using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Hashall.HostedShell;

// hashall-shell -Command '<script>' | -File <script.ps1> [args...] | -Transcript <script.ps1>
// Runs the script in the real PowerShell engine and prints what Out-Default would print.
// -Transcript runs each top-level statement as its own pipeline and echoes it after "PS> ", as an
// interactive session shows it (used to make the README's and the help's sample output).
if (args.Length < 2 || (args[0] != "-Command" && args[0] != "-File" && args[0] != "-Transcript"))
{
    Console.Error.WriteLine("usage: hashall-shell -Command '<script>' | -File <script.ps1> [args...] | -Transcript <script.ps1>");
    return 2;
}
string script = args[0] == "-Command" ? args[1] : File.ReadAllText(args[1]);
var host = new TextHost(text => Console.Out.Write(text));
using var runspace = RunspaceFactory.CreateRunspace(host, InitialSessionState.CreateDefault2());
runspace.Open();
Invoke("$PSStyle.OutputRendering = 'PlainText'", Array.Empty<string>());
if (args[0] != "-Transcript")
    return Invoke(script, args.Skip(2)) ? 0 : 1;
bool ok = true;
foreach (var statement in Parser.ParseInput(script, out _, out _).EndBlock.Statements)
{
    Console.Out.Write("PS> " + statement.Extent.Text + "\n");
    ok &= Invoke(statement.Extent.Text, Array.Empty<string>());
}
return ok ? 0 : 1;

bool Invoke(string text, IEnumerable<string> arguments)
{
    using var ps = PowerShell.Create();
    ps.Runspace = runspace;
    ps.AddScript(text);
    foreach (var arg in arguments)
        ps.AddArgument(arg);
    ps.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
    ps.AddCommand("Out-Default");
    try
    {
        ps.Invoke();
    }
    catch (RuntimeException e)
    {
        Console.Error.WriteLine($"{e.ErrorRecord?.FullyQualifiedErrorId}: {e.Message}");
        return false;
    }
    return !ps.HadErrors;
}
