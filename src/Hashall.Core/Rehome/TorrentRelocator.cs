using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Hashall.Core.QBittorrent;

namespace Hashall.Core.Rehome
{
    /// <summary>
    /// Stops, relocates, rechecks and starts torrents in qBittorrent, confirming every change by the
    /// torrents' state: qBittorrent answers 200 before it acts (and even when a move fails later), so
    /// a status code proves nothing. Relocation always goes onto a complete, verified copy: qBittorrent
    /// keeps files already at the destination, and the recheck then proves them.
    /// </summary>
    public sealed class TorrentRelocator
    {
        private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
        /// <summary>A recheck that shows no sign of running for this long is asked for again.</summary>
        private static readonly TimeSpan RecheckSettle = TimeSpan.FromSeconds(5);
        /// <summary>How long qBittorrent's reported state can trail a change (its refresh is about 1.5 s).</summary>
        private static readonly TimeSpan StateLag = TimeSpan.FromSeconds(3);

        private readonly QBittorrentClient _client;
        private readonly TimeSpan _deadline;
        private readonly CancellationToken _cancel;
        private readonly Action _onPoll;

        /// <param name="onPoll">Called between polls (the executor renews its lease there).</param>
        public TorrentRelocator(QBittorrentClient client, TimeSpan deadline, CancellationToken cancel, Action onPoll)
        {
            _client = client;
            _deadline = deadline;
            _cancel = cancel;
            _onPoll = onPoll;
        }

        public static bool IsStopped(TorrentInfo t) => t.State.StartsWith("paused", StringComparison.Ordinal) || t.State.StartsWith("stopped", StringComparison.Ordinal);

        public static bool IsBusy(TorrentInfo t) =>
            t.State.StartsWith("checking", StringComparison.Ordinal) || t.State == "moving" || t.State == "allocating" || t.State == "metaDL";

        public static bool IsComplete(TorrentInfo t) => t.Progress >= 1.0 && !IsBusy(t) && t.State != "error" && t.State != "missingFiles";

        /// <summary>The torrents as qBittorrent has them now; a missing one is an error naming it.</summary>
        public Dictionary<string, TorrentInfo> Current(IReadOnlyCollection<string> hashes)
        {
            var found = _client.Torrents(hashes: hashes).ToDictionary(t => t.Hash, StringComparer.OrdinalIgnoreCase);
            foreach (var t in found.Values)
                t.Hash = hashes.First(h => string.Equals(h, t.Hash, StringComparison.OrdinalIgnoreCase)); // callers key by their own spelling
            foreach (var h in hashes.Where(h => !found.ContainsKey(h)))
                throw new HashallException("RehomeTorrentMissing", HashallErrorKind.NotFound, $"qBittorrent no longer has torrent {h}.", h);
            return found;
        }

        public void Stop(IReadOnlyCollection<string> hashes)
        {
            if (hashes.Count == 0)
                return;
            _client.Stop(hashes);
            WaitFor(hashes, IsStopped, "stop", resend: () => _client.Stop(hashes));
        }

        /// <summary>Starts the torrents and returns those confirmed running (qBittorrent may hold others in its queue).</summary>
        public List<string> Start(IReadOnlyCollection<string> hashes)
        {
            if (hashes.Count == 0)
                return new List<string>();
            _client.Start(hashes);
            try
            {
                WaitFor(hashes, t => !IsStopped(t), "start", resend: () => _client.Start(hashes), deadline: TimeSpan.FromSeconds(Math.Min(30, _deadline.TotalSeconds)));
            }
            catch (HashallException e) when (e.ErrorId == "RehomeQBittorrentTimeout")
            {
                // Reported per torrent by the caller: the data is in place, only the start is unconfirmed.
            }
            return Current(hashes).Values.Where(t => !IsStopped(t)).Select(t => t.Hash).ToList();
        }

        /// <summary>
        /// Points the (stopped) torrents at <paramref name="savePath"/>, where a complete copy already is,
        /// waits until qBittorrent reports each one's expected content path there, rechecks, and
        /// confirms every torrent complete. Throws RehomeQBittorrentTimeout or RehomeRecheckFailed naming the torrent.
        /// </summary>
        /// <param name="contentPaths">Each torrent's content path at the new place (its root folder, or its file).</param>
        public void Relocate(IReadOnlyDictionary<string, string> contentPaths, string savePath, Action afterSetLocation)
        {
            var hashes = contentPaths.Keys.ToList();
            var now = Current(hashes);
            // Evidence, per torrent, that qBittorrent looked at the data in this run: it showed it
            // incomplete or checking. A complete state without that could be its cache from before.
            var evidence = new HashSet<string>(hashes.Where(h => !IsComplete(now[h])), StringComparer.OrdinalIgnoreCase);
            var toMove = hashes.Where(h => !SamePath(now[h].ContentPath, contentPaths[h])).ToList();
            if (toMove.Count > 0)
            {
                _client.SetLocation(toMove, savePath);
                afterSetLocation();
                WaitFor(toMove, t => SamePath(t.ContentPath, contentPaths[t.Hash]) && t.State != "moving", "move to '" + savePath + "'",
                    describe: t => $"save path '{t.SavePath}', content path '{t.ContentPath}', state {t.State} (qBittorrent's log says why a move failed)");
                // Moved onto files already there, a torrent shows incomplete until rechecked; its state
                // lags the content path by about a refresh, so give it that long to show.
                var lag = Stopwatch.StartNew();
                while (toMove.Any(h => !evidence.Contains(h)) && lag.Elapsed < StateLag)
                {
                    Sleep();
                    foreach (var t in Current(toMove).Values.Where(t => !IsComplete(t)))
                        evidence.Add(t.Hash);
                }
            }
            Recheck(hashes, evidence, new HashSet<string>(toMove, StringComparer.OrdinalIgnoreCase));
        }

        /// <summary>A content path at or under <paramref name="from"/>, moved under <paramref name="to"/>.</summary>
        public static string Rebase(string contentPath, string from, string to)
        {
            string path = contentPath.TrimEnd('/', '\\');
            return SamePath(path, from) ? to : Platform.PathText.Join(to, Platform.PathText.RelativeTo(path, from));
        }

        /// <summary>Whether a torrent's content path is the payload's (its root, or its one file inside the root folder).</summary>
        public static bool PointsAt(TorrentInfo t, string payloadPath) =>
            SamePath(t.ContentPath, payloadPath) || Platform.PathText.IsUnder(t.ContentPath.TrimEnd('/', '\\'), payloadPath);

        /// <summary>
        /// Rechecks and waits until every torrent is complete with evidence of a check in this run
        /// (incomplete or checking seen before complete). A torrent not moved in this run that shows
        /// complete without such evidence after a settle time is trusted: its state predates this run.
        /// </summary>
        private void Recheck(IReadOnlyCollection<string> hashes, HashSet<string> evidence, HashSet<string> movedNow)
        {
            _client.Recheck(hashes);
            var clock = Stopwatch.StartNew();
            var sinceAsked = Stopwatch.StartNew();
            bool askedAgain = false;
            while (true)
            {
                var now = Current(hashes);
                foreach (var t in now.Values.Where(t => IsBusy(t) || !IsComplete(t)))
                    evidence.Add(t.Hash);
                bool settled = askedAgain && sinceAsked.Elapsed > RecheckSettle;
                if (now.Values.All(t => IsComplete(t) && (evidence.Contains(t.Hash) || (settled && !movedNow.Contains(t.Hash)))))
                    return;
                // A check that ran and ended short of complete: the copy is not what the torrent needs.
                var failed = now.Values.FirstOrDefault(t => !IsBusy(t) && !IsComplete(t) && sinceAsked.Elapsed > RecheckSettle + RecheckSettle);
                if (failed != null)
                    throw new HashallException("RehomeRecheckFailed", HashallErrorKind.InvalidData,
                        $"qBittorrent's recheck of '{failed.Name}' ({failed.Hash}) at '{failed.ContentPath}' ended at {failed.Progress:P1}, state {failed.State}: it does not accept that copy.", failed.Hash);
                if (clock.Elapsed > _deadline)
                {
                    var t = now.Values.First(x => !IsComplete(x) || !evidence.Contains(x.Hash));
                    throw new HashallException("RehomeQBittorrentTimeout", HashallErrorKind.ResourceUnavailable,
                        $"qBittorrent did not confirm a recheck of '{t.Name}' ({t.Hash}) at '{t.ContentPath}' within {_deadline.TotalSeconds:0} s: state {t.State}, {t.Progress:P1}.", t.Hash);
                }
                var idle = now.Values.Where(t => !IsBusy(t) && !(IsComplete(t) && evidence.Contains(t.Hash))).Select(t => t.Hash).ToList();
                if (!askedAgain && sinceAsked.Elapsed > RecheckSettle && idle.Count > 0)
                {
                    // No check under way after a while (a request can be lost while qBittorrent is busy with
                    // the torrent, or a tiny check ran between two polls): ask once more and judge by that.
                    _client.Recheck(idle);
                    askedAgain = true;
                    sinceAsked.Restart();
                }
                Sleep();
            }
        }

        private void WaitFor(IReadOnlyCollection<string> hashes, Func<TorrentInfo, bool> done, string what,
            Action? resend = null, TimeSpan? deadline = null, Func<TorrentInfo, string>? describe = null)
        {
            var clock = Stopwatch.StartNew();
            bool resent = false;
            var limit = deadline ?? _deadline;
            while (true)
            {
                var now = Current(hashes);
                if (now.Values.All(done))
                    return;
                if (clock.Elapsed > limit)
                {
                    var t = now.Values.First(x => !done(x));
                    throw new HashallException("RehomeQBittorrentTimeout", HashallErrorKind.ResourceUnavailable,
                        $"qBittorrent did not {what} torrent '{t.Name}' ({t.Hash}) within {limit.TotalSeconds:0} s: {(describe ?? (x => $"state {x.State}"))(t)}.", t.Hash);
                }
                // A command sent while qBittorrent was busy with the torrent can be lost: send it once more.
                if (resend != null && !resent && clock.Elapsed > RecheckSettle)
                {
                    resend();
                    resent = true;
                }
                Sleep();
            }
        }

        private void Sleep()
        {
            _onPoll();
            if (_cancel.WaitHandle.WaitOne(Poll))
                throw new OperationCanceledException(_cancel);
        }

        public static bool SamePath(string a, string b) => string.Equals(a.TrimEnd('/', '\\'), b.TrimEnd('/', '\\'), StringComparison.Ordinal);
    }
}
