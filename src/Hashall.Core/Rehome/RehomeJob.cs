using System;
using System.Collections.Generic;

namespace Hashall.Core.Rehome
{
    /// <summary>
    /// How far a job got, in order. Up to Verified the torrents still point at the source and a rollback
    /// only removes the copy; from Stopping qBittorrent may point at either copy (both whole); from
    /// Relocated the torrents are confirmed on the target and the job can only go forward. A rollback
    /// removes only what the job made: its copy (after Verified, when it copied) and the links it
    /// journaled (from Linking).
    /// </summary>
    public enum RehomeStep
    {
        Started,
        Copying,
        /// <summary>The verified copy is being renamed from its staging folder into place.</summary>
        Placing,
        Verified,
        /// <summary>Hard links of the torrents' own layouts are being made on the target (each journaled before it is made).</summary>
        Linking,
        /// <summary>Every link made and verified by inode and size.</summary>
        Linked,
        Stopping,
        Relocating,
        Relocated,
        Removing,
        Done,
    }

    /// <summary>A rehome job's final (or current) state.</summary>
    public enum RehomeStatus
    {
        /// <summary>Relocated, confirmed, source removed, catalog updated.</summary>
        Done,
        /// <summary>The plan's decision is BLOCK: nothing was done.</summary>
        Blocked,
        /// <summary>Refused before anything changed (the plan no longer matches the catalog, disk or qBittorrent).</summary>
        Invalid,
        /// <summary>A step failed; everything done so far was undone (the torrents seed the source as before).</summary>
        RolledBack,
        /// <summary>A step failed and could not be undone; the message says where each copy is. Running the plan again resumes.</summary>
        Failed,
        /// <summary>An earlier run already did this plan.</summary>
        AlreadyDone,
    }

    /// <summary>A torrent being relocated, as recorded in the journal before it is stopped.</summary>
    public sealed class RelocatedTorrent
    {
        public string Hash { get; set; } = "";
        public string Name { get; set; } = "";
        public string SavePathBefore { get; set; } = "";
        public string ContentPathBefore { get; set; } = "";
        /// <summary>Started again after the relocation only when it was running before.</summary>
        public bool WasRunning { get; set; }
    }

    /// <summary>One execution of a plan for one payload, as the journal holds it.</summary>
    public sealed class RehomeJob
    {
        public long JobId { get; set; }
        public string PayloadHash { get; set; } = "";
        public string SourcePath { get; set; } = "";
        public string TargetPath { get; set; } = "";
        public RehomeStep Step { get; set; }
        public string Status { get; set; } = "running";
        public bool CopyCreated { get; set; }
        public List<RelocatedTorrent> Torrents { get; set; } = new List<RelocatedTorrent>();
        public string? Message { get; set; }
        public string Owner { get; set; } = "";
    }

    /// <summary>What Invoke-RehomePlan did with one plan.</summary>
    public sealed class RehomeResult
    {
        public string Name { get; set; } = "";
        public string? PayloadHash { get; set; }
        public RehomeDirection Direction { get; set; }
        public RehomeDecision Decision { get; set; }
        public RehomeStatus Status { get; set; }
        /// <summary>The last step reached.</summary>
        public RehomeStep Step { get; set; }
        public long? JobId { get; set; }
        /// <summary>True when this run continued an interrupted or failed job.</summary>
        public bool Resumed { get; set; }
        public string SourcePath { get; set; } = "";
        public string TargetPath { get; set; } = "";
        /// <summary>Torrents now pointing at the target.</summary>
        public List<string> Relocated { get; set; } = new List<string>();
        /// <summary>Torrents started again (those that were running before).</summary>
        public List<string> Restarted { get; set; } = new List<string>();
        public int FilesCopied { get; set; }
        public long BytesCopied { get; set; }
        public int FilesRemoved { get; set; }
        public TimeSpan Duration { get; set; }
        /// <summary>What went wrong (or what was refused), and where the data is.</summary>
        public string? Message { get; set; }
        /// <summary>The stable error id when the plan did not run through (Invalid, RolledBack, Failed).</summary>
        public string? ErrorId { get; set; }
        public List<string> Warnings { get; set; } = new List<string>();
        /// <summary>The job's journal: every step with its time.</summary>
        public List<string> Journal { get; set; } = new List<string>();
        public string Database { get; set; } = "";

        /// <summary>A result that starts from what the plan says.</summary>
        public static RehomeResult For(RehomePlan plan, string database) => new RehomeResult
        {
            Name = plan.Name, PayloadHash = plan.PayloadHash, Direction = plan.Direction, Decision = plan.Decision,
            SourcePath = plan.SourcePath, TargetPath = plan.TargetPath, Database = database,
        };

        /// <summary>A BLOCK plan is never executed: its result carries its reasons.</summary>
        public static RehomeResult Blocked(RehomePlan plan, string database)
        {
            var result = For(plan, database);
            result.Status = RehomeStatus.Blocked;
            result.Message = string.Join("; ", plan.Reasons);
            return result;
        }
    }

    /// <summary>Totals of one Invoke-RehomePlan run (-Summary).</summary>
    public sealed class RehomeSummary
    {
        public int Plans { get; set; }
        public int Done { get; set; }
        public int AlreadyDone { get; set; }
        public int Blocked { get; set; }
        public int Invalid { get; set; }
        public int RolledBack { get; set; }
        public int Failed { get; set; }
        /// <summary>Plans not run: -WhatIf, declined at the prompt, or after -StopOnError stopped the run.</summary>
        public int Skipped { get; set; }
        public long BytesCopied { get; set; }
        public TimeSpan Duration { get; set; }
        public List<RehomeResult> Results { get; set; } = new List<RehomeResult>();

        /// <summary>Counts a plan's result in.</summary>
        public void Add(RehomeResult result)
        {
            Results.Add(result);
            BytesCopied += result.BytesCopied;
            switch (result.Status)
            {
                case RehomeStatus.Done: Done++; break;
                case RehomeStatus.AlreadyDone: AlreadyDone++; break;
                case RehomeStatus.Blocked: Blocked++; break;
                case RehomeStatus.Invalid: Invalid++; break;
                case RehomeStatus.RolledBack: RolledBack++; break;
                case RehomeStatus.Failed: Failed++; break;
            }
        }
    }
}
