using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>Completes qBittorrent's torrent states (Web API torrents/info 'state', qBittorrent 4.5 – 5.x).</summary>
    public sealed class TorrentStateCompleter : IArgumentCompleter
    {
        /// <summary>Every state qBittorrent reports, with what it means.</summary>
        public static readonly IReadOnlyList<(string State, string Meaning)> States = new[]
        {
            ("error", "an error stopped it"),
            ("missingFiles", "its data is missing"),
            ("uploading", "seeding, data being sent"),
            ("stalledUP", "seeding, no peer taking data"),
            ("queuedUP", "seeding, queued"),
            ("checkingUP", "complete, being checked"),
            ("forcedUP", "seeding, forced"),
            ("pausedUP", "complete, paused (qBittorrent 4)"),
            ("stoppedUP", "complete, stopped (qBittorrent 5)"),
            ("allocating", "allocating disk space"),
            ("downloading", "downloading"),
            ("metaDL", "fetching metadata"),
            ("forcedMetaDL", "fetching metadata, forced"),
            ("stalledDL", "downloading, no peer sending data"),
            ("queuedDL", "downloading, queued"),
            ("checkingDL", "incomplete, being checked"),
            ("forcedDL", "downloading, forced"),
            ("pausedDL", "incomplete, paused (qBittorrent 4)"),
            ("stoppedDL", "incomplete, stopped (qBittorrent 5)"),
            ("checkingResumeData", "being loaded at startup"),
            ("moving", "its data being moved"),
            ("unknown", "state unknown"),
        };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string word = wordToComplete.Trim('\'', '"');
            var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
            return States.Where(s => pattern.IsMatch(s.State)).Select(s => new CompletionResult(s.State, s.State, CompletionResultType.ParameterValue, s.Meaning)).ToList();
        }
    }
}
