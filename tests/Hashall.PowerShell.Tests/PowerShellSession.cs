using System.Collections.ObjectModel;
using Hashall.Tests.Shared;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Hashall.PowerShell.Tests;

/// <summary>What one script run produced, stream by stream.</summary>
public sealed class RunResult
{
    public required Collection<PSObject> Output { get; init; }
    public required IReadOnlyList<ErrorRecord> Errors { get; init; }
    public required IReadOnlyList<ProgressRecord> Progress { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    public required string HostText { get; init; }
    /// <summary>A terminating error, if the script stopped with one.</summary>
    public RuntimeException? Terminating { get; init; }

    public string? TerminatingErrorId => Terminating?.ErrorRecord?.FullyQualifiedErrorId;

    public RunResult Succeeded()
    {
        if (Terminating != null || Errors.Count > 0)
            throw new Xunit.Sdk.XunitException("The script failed: " + (Terminating?.ErrorRecord?.ToString() ?? Terminating?.Message)
                + string.Concat(Errors.Select(e => "\n  " + e.FullyQualifiedErrorId + ": " + e)));
        return this;
    }
}

/// <summary>A runspace of the real PowerShell engine with the built Hashall module folder imported.</summary>
public sealed class PowerShellSession : IDisposable
{
    private readonly Runspace _runspace;

    /// <param name="useCurrentThread">Run every script on the calling thread (for per-thread credentials).</param>
    public PowerShellSession(string? database = null, bool useCurrentThread = false)
    {
        Host = new RecordingHost();
        var iss = InitialSessionState.CreateDefault2();
        _runspace = RunspaceFactory.CreateRunspace(Host.Host, iss);
        if (useCurrentThread)
            _runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        _runspace.Open();
        Run("$PSStyle.OutputRendering = 'PlainText'; $ProgressPreference = 'Continue'").Succeeded();
        Run("Import-Module $args[0] -ErrorAction Stop", ModuleFolder.Manifest).Succeeded();
        if (database != null)
            Run("$PSDefaultParameterValues['*-Hashall*:Database'] = $args[0]; $PSDefaultParameterValues['*-Rehome*:Database'] = $args[0]", database).Succeeded();
        Host.Clear();
    }

    public RecordingHost Host { get; }

    public RunResult Run(string script, params object?[] args) => Run(script, null, args);

    /// <summary>
    /// Runs a script; <paramref name="onProgress"/> sees each progress record on the pipeline's own
    /// thread as it is written, so a test can act between two steps of a cmdlet.
    /// </summary>
    public RunResult Run(string script, Action<ProgressRecord>? onProgress, params object?[] args)
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        if (onProgress != null)
            ps.Streams.Progress.DataAdded += (sender, e) => onProgress(((PSDataCollection<ProgressRecord>)sender!)[e.Index]);
        ps.Runspace = _runspace;
        // A terminating error from a cmdlet only ends its statement; re-throw it so the run reports it.
        ps.AddScript("try {\n" + script + "\n} catch { throw }");
        foreach (var arg in args)
            ps.AddArgument(arg);
        int hostMark = Host.Text.Length;
        Collection<PSObject> output = new();
        RuntimeException? terminating = null;
        try
        {
            output = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            terminating = e;
        }
        return new RunResult
        {
            Output = output,
            Errors = ps.Streams.Error.ToList(),
            Progress = ps.Streams.Progress.ToList(),
            Warnings = ps.Streams.Warning.Select(w => w.Message).ToList(),
            HostText = Host.Text.Substring(Math.Min(hostMark, Host.Text.Length)),
            Terminating = terminating,
        };
    }

    /// <summary>
    /// Starts a script and stops it (as Ctrl+C does) at the first progress record that
    /// <paramref name="stopWhen"/> accepts; returns how long stopping took.
    /// </summary>
    public TimeSpan RunAndStop(string script, Func<ProgressRecord, bool> stopWhen, params object?[] args)
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        foreach (var arg in args)
            ps.AddArgument(arg);
        using var trigger = new ManualResetEventSlim();
        ps.Streams.Progress.DataAdded += (sender, e) =>
        {
            var record = ((PSDataCollection<ProgressRecord>)sender!)[e.Index];
            if (stopWhen(record))
                trigger.Set();
        };
        var running = ps.BeginInvoke();
        if (!trigger.Wait(TimeSpan.FromSeconds(60)))
            throw new Xunit.Sdk.XunitException("The stop condition was never met.");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ps.Stop();
        running.AsyncWaitHandle.WaitOne();
        return clock.Elapsed;
    }

    /// <summary>Starts a script, stops it (as Ctrl+C does) once <paramref name="ready"/> is set, returns how long stopping took.</summary>
    public TimeSpan StopWhen(string script, WaitHandle ready, params object?[] args)
    {
        using var ps = System.Management.Automation.PowerShell.Create();
        ps.Runspace = _runspace;
        ps.AddScript(script);
        foreach (var arg in args)
            ps.AddArgument(arg);
        var running = ps.BeginInvoke();
        if (!ready.WaitOne(TimeSpan.FromSeconds(60)))
            throw new Xunit.Sdk.XunitException("The stop condition was never met.");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ps.Stop();
        running.AsyncWaitHandle.WaitOne();
        return clock.Elapsed;
    }

    public void Dispose() => _runspace.Dispose();
}
