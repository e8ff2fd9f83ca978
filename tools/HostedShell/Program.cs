using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Hashall.HostedShell;

// hashall-shell -Command '<script>' | -File <script.ps1> [args...]
// Runs the script in the real PowerShell engine and prints what Out-Default would print.
if (args.Length < 2 || (args[0] != "-Command" && args[0] != "-File"))
{
    Console.Error.WriteLine("usage: hashall-shell -Command '<script>' | -File <script.ps1> [args...]");
    return 2;
}
string script = args[0] == "-File" ? File.ReadAllText(args[1]) : args[1];
var host = new TextHost(text => Console.Out.Write(text));
using var runspace = RunspaceFactory.CreateRunspace(host, InitialSessionState.CreateDefault2());
runspace.Open();
using var ps = PowerShell.Create();
ps.Runspace = runspace;
ps.AddScript("$PSStyle.OutputRendering = 'PlainText'").Invoke();
ps.Commands.Clear();
ps.AddScript(script);
foreach (var arg in args.Skip(2))
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
    return 1;
}
return ps.HadErrors ? 1 : 0;
