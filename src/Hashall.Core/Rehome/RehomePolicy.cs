using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Hashall.Core.Payloads;

namespace Hashall.Core.Rehome
{
    /// <summary>The order in which a policy takes its candidates.</summary>
    public enum RehomeOrder
    {
        /// <summary>Completed longest ago first (by the payload's most recently completed torrent).</summary>
        Oldest,
        /// <summary>The most bytes first.</summary>
        Largest,
        /// <summary>The most recent activity (upload or download) first: promotion's default.</summary>
        RecentlyActive,
    }

    /// <summary>How much free space the stash should have after demotion: a share of its size, or bytes.</summary>
    public sealed class FreeSpaceTarget
    {
        /// <summary>0 to 100 when given as a share; null when given in bytes.</summary>
        public double? Percent { get; private set; }
        public long Bytes { get; private set; }

        private static readonly Regex Form = new Regex(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<u>%|B|KB|KIB|MB|MIB|GB|GIB|TB|TIB|PB|PIB)?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        /// <summary>"20%", bytes ("536870912000", what PowerShell makes of an unquoted 500GB), or a number and unit ("500GB", "1.5 TiB"; KB, MB, GB, TB are 1024-based, as in PowerShell).</summary>
        public static FreeSpaceTarget Parse(string text)
        {
            var m = Form.Match(text ?? "");
            if (!m.Success)
                throw new HashallException("RehomeFreeSpaceTargetInvalid", HashallErrorKind.InvalidArgument,
                    $"-FreeSpaceTarget '{text}' is neither a share of the stash ('20%') nor a size ('500GB', '1.5TB', or bytes).", text);
            double n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            string unit = m.Groups["u"].Value.ToUpperInvariant();
            if (unit == "%")
            {
                if (n > 100)
                    throw new HashallException("RehomeFreeSpaceTargetInvalid", HashallErrorKind.InvalidArgument, $"-FreeSpaceTarget '{text}' is more than 100%.", text);
                return new FreeSpaceTarget { Percent = n };
            }
            int power = unit.Length == 0 || unit == "B" ? 0 : "KMGTP".IndexOf(unit[0]) + 1;
            return new FreeSpaceTarget { Bytes = (long)Math.Round(n * Math.Pow(1024, power)) };
        }

        /// <summary>The free bytes wanted on a device of <paramref name="totalBytes"/>.</summary>
        public long For(long totalBytes) => Percent is double p ? (long)Math.Ceiling(totalBytes * p / 100) : Bytes;

        public override string ToString() => Percent is double p ? p.ToString("0.##", CultureInfo.InvariantCulture) + "%" : RehomePolicy.Size(Bytes);
    }

    /// <summary>
    /// Which payloads a plan takes, by what qBittorrent said of their torrents at the last sync, and how
    /// many: New-RehomePlan's -MinimumSeedingTime, -MinimumAge, -Ratio, -ActiveWithin, -FreeSpaceTarget,
    /// -Order, -Limit and -MaximumBytes. Demotion's thresholds hold for every torrent the plan relocates
    /// (a sibling added yesterday keeps its payload on the stash); promotion takes a payload when any of
    /// its torrents was active within the span.
    /// </summary>
    public sealed class RehomePolicy
    {
        public TimeSpan? MinimumSeedingTime { get; set; }
        /// <summary>Since the torrent completed (completion_on).</summary>
        public TimeSpan? MinimumAge { get; set; }
        public double? MinimumRatio { get; set; }
        /// <summary>Promotion: last activity no longer ago than this.</summary>
        public TimeSpan? ActiveWithin { get; set; }
        /// <summary>Demotion: choose payloads until the stash would have this much free.</summary>
        public FreeSpaceTarget? FreeSpaceTarget { get; set; }
        /// <summary>At most this many plans that move or reuse (blocked ones are not counted).</summary>
        public int? Limit { get; set; }
        /// <summary>At most this many payload bytes in the plans that move or reuse.</summary>
        public long? MaximumBytes { get; set; }
        public RehomeOrder? Order { get; set; }
        /// <summary>A further test of a torrent (e.g. its link status) with the words that say it passed; null: no such test.</summary>
        public Func<HashallTorrent, bool>? Filter { get; set; }
        public string FilterName { get; set; } = "";
        /// <summary>The clock policies are measured against.</summary>
        public DateTime Now { get; set; } = DateTime.UtcNow;

        /// <summary>True when any selector or limit is set: the plan then chooses, rather than taking every payload named.</summary>
        public bool Selects => MinimumSeedingTime != null || MinimumAge != null || MinimumRatio != null || ActiveWithin != null || FreeSpaceTarget != null
                               || Limit != null || MaximumBytes != null || Filter != null || Order != null;

        /// <summary>Why the torrents (the ones a plan relocates) meet the selectors, or null with <paramref name="why"/> saying which fails.</summary>
        public string? Meets(IReadOnlyList<HashallTorrent> torrents, out string why)
        {
            why = "";
            var parts = new List<string>();
            if (torrents.Count == 0)
            {
                why = "no torrent to relocate";
                return null;
            }
            string of = torrents.Count > 1 ? $" (least of {torrents.Count} torrents)" : "";
            if (MinimumAge is TimeSpan age)
            {
                var youngest = torrents.OrderBy(t => t.CompletedOn ?? DateTime.MaxValue).Last();
                if (youngest.CompletedOn is not DateTime done)
                {
                    why = $"'{youngest.Name}' has no completion time in the catalog (incomplete, or synced by an older Hashall: sync again)";
                    return null;
                }
                if (Now - done < age)
                {
                    why = $"'{youngest.Name}' completed {Span(Now - done)} ago, less than {Span(age)}";
                    return null;
                }
                parts.Add($"completed {Span(Now - done)} ago ≥ {Span(age)}{of}");
            }
            if (MinimumSeedingTime is TimeSpan seeding)
            {
                var least = torrents.OrderBy(t => t.SeedingTime ?? TimeSpan.MinValue).First();
                if (least.SeedingTime is not TimeSpan s)
                {
                    why = $"'{least.Name}' has no seeding time in the catalog (synced by an older Hashall: sync again)";
                    return null;
                }
                if (s < seeding)
                {
                    why = $"'{least.Name}' seeded {Span(s)}, less than {Span(seeding)}";
                    return null;
                }
                parts.Add($"seeded {Span(s)} ≥ {Span(seeding)}{of}");
            }
            if (MinimumRatio is double ratio)
            {
                var least = torrents.OrderBy(t => t.Ratio ?? double.MinValue).First();
                if (least.Ratio is not double r)
                {
                    why = $"'{least.Name}' has no ratio in the catalog (synced by an older Hashall: sync again)";
                    return null;
                }
                if (r < ratio)
                {
                    why = $"'{least.Name}' has ratio {r.ToString("0.00", CultureInfo.InvariantCulture)}, less than {ratio.ToString("0.00", CultureInfo.InvariantCulture)}";
                    return null;
                }
                parts.Add($"ratio {r.ToString("0.00", CultureInfo.InvariantCulture)} ≥ {ratio.ToString("0.00", CultureInfo.InvariantCulture)}{of}");
            }
            if (Filter != null)
            {
                var failing = torrents.FirstOrDefault(t => !Filter(t));
                if (failing != null)
                {
                    why = $"'{failing.Name}' is not {FilterName}";
                    return null;
                }
                parts.Add(FilterName);
            }
            if (ActiveWithin is TimeSpan within)
            {
                var latest = torrents.OrderBy(t => t.LastActivity ?? DateTime.MinValue).Last();
                if (latest.LastActivity is not DateTime at || Now - at > within)
                {
                    why = latest.LastActivity is DateTime a2 ? $"last active {Span(Now - a2)} ago, longer than {Span(within)}" : "no activity time in the catalog (synced by an older Hashall: sync again)";
                    return null;
                }
                parts.Add($"active {Span(Now - at)} ago ≤ {Span(within)}" + (torrents.Count > 1 ? $" ('{latest.Name}')" : ""));
            }
            return string.Join(", ", parts);
        }

        /// <summary>The key a policy orders payloads by (ascending), from the torrents a plan relocates and its bytes.</summary>
        public static IComparable OrderKey(RehomeOrder order, IReadOnlyList<HashallTorrent> torrents, long bytes) => order switch
        {
            RehomeOrder.Largest => -bytes,
            RehomeOrder.RecentlyActive => -(torrents.Max(t => t.LastActivity) ?? DateTime.MinValue).Ticks,
            _ => (torrents.Max(t => t.CompletedOn ?? DateTime.MaxValue)).Ticks,
        };

        /// <summary>What the order measured, when no selector says why a payload was taken ("completed 90d ago, oldest first").</summary>
        public string OrderWords(RehomeOrder order, IReadOnlyList<HashallTorrent> torrents, long bytes)
        {
            switch (order)
            {
                case RehomeOrder.Largest:
                    return $"{Size(bytes)}, largest first";
                case RehomeOrder.RecentlyActive:
                    var active = torrents.Max(t => t.LastActivity);
                    return (active is DateTime a ? $"active {Span(Now - a)} ago" : "no activity known") + ", most recently active first";
                default:
                    var done = torrents.Count == 0 || torrents.Any(t => t.CompletedOn == null) ? null : torrents.Max(t => t.CompletedOn);
                    return (done is DateTime d ? $"completed {Span(Now - d)} ago" : "completion not known") + ", oldest first";
            }
        }

        /// <summary>"45d 3h", "2h 5m", "40s": the two largest units.</summary>
        public static string Span(TimeSpan t)
        {
            if (t < TimeSpan.Zero)
                t = TimeSpan.Zero;
            if (t.TotalDays >= 1)
                return t.Hours > 0 ? $"{(int)t.TotalDays}d {t.Hours}h" : $"{(int)t.TotalDays}d";
            if (t.TotalHours >= 1)
                return t.Minutes > 0 ? $"{t.Hours}h {t.Minutes}m" : $"{t.Hours}h";
            if (t.TotalMinutes >= 1)
                return t.Seconds > 0 ? $"{t.Minutes}m {t.Seconds}s" : $"{t.Minutes}m";
            return $"{(int)t.TotalSeconds}s";
        }

        /// <summary>Bytes as "58.6 KiB" (as the views show sizes).</summary>
        public static string Size(long bytes)
        {
            string[] units = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
            double value = bytes;
            int unit = 0;
            while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
            {
                value /= 1024;
                unit++;
            }
            return unit == 0 ? $"{bytes} B" : value.ToString(Math.Abs(value) < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[unit];
        }
    }

    /// <summary>What a policy run chose: plans (chosen, and blocked ones that met the policy), notes on what it passed over.</summary>
    public sealed class RehomeSelection
    {
        public List<RehomePlan> Plans { get; } = new List<RehomePlan>();
        /// <summary>Why candidates were passed over, and whether the target was met.</summary>
        public List<string> Notes { get; } = new List<string>();
        /// <summary>Plans that move or reuse.</summary>
        public int Chosen { get; set; }
        /// <summary>-FreeSpaceTarget: the stash's free bytes before, and the free bytes wanted.</summary>
        public long FreeBytes { get; set; }
        public long WantedFreeBytes { get; set; }
        /// <summary>What the chosen demotions free on the stash.</summary>
        public long FreedBytes { get; set; }
        /// <summary>-FreeSpaceTarget: why the chosen demotions fall short of the target (also the last note); null when met or without a target.</summary>
        public string? TargetNotMet { get; set; }
    }
}
