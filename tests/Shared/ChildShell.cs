using System.Diagnostics;

namespace Hashall.Tests.Shared;

/// <summary>tools/HostedShell in its own process: for tests that kill a pipeline mid-way, as a crash or `kill -9` would.</summary>
public static class ChildShell
{
    public static string Dll
    {
        get
        {
            // The same configuration as the running tests (bin/<Configuration>/net10.0/).
            string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
            string dll = Path.Combine(ModuleFolder.RepoRoot, "tools", "HostedShell", "bin", configuration, "net10.0", "hashall-shell.dll");
            if (!File.Exists(dll))
                throw new FileNotFoundException("Build tools/HostedShell first (the test project references it).", dll);
            return dll;
        }
    }

    public static Process Start(string script, IDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Dll);
        psi.ArgumentList.Add("-Command");
        psi.ArgumentList.Add(script);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>Runs a script to the end; returns its exit code and output.</summary>
    public static (int ExitCode, string Output) Run(string script, IDictionary<string, string>? environment = null)
    {
        using var p = Start(script, environment);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("The child shell did not finish within 2 minutes.");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>
    /// Starts a script with HASHALL_FAULT=<paramref name="point"/>:<paramref name="count"/>:hold and returns once the
    /// child says it is held there (its thread stopped for ever, its lease live); the caller kills it.
    /// </summary>
    public static Process StartHeld(string script, string point, int count)
    {
        var p = Start(script, new Dictionary<string, string> { ["HASHALL_FAULT"] = $"{point}:{count}:hold" });
        var stdout = p.StandardOutput.ReadToEndAsync(); // drained, so the child never blocks on a full pipe
        var said = new System.Text.StringBuilder();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            var line = p.StandardError.ReadLineAsync();
            if (!line.Wait(deadline - DateTime.UtcNow) || line.Result == null)
                break;
            said.AppendLine(line.Result);
            if (line.Result.StartsWith("HASHALL_FAULT: holding at " + point, StringComparison.Ordinal))
            {
                _ = p.StandardError.ReadToEndAsync();
                return p;
            }
        }
        p.Kill(entireProcessTree: true);
        p.WaitForExit();
        throw new InvalidOperationException($"The child never reached {point} #{count} (it finished, or took over 2 minutes): {said}{(stdout.IsCompleted ? stdout.Result : "")}");
    }
}
