using System;
using System.Collections.Generic;

namespace Hashall.Core.Linking
{
    /// <summary>A hardlink dedup plan for one device (stored, or a preview when PlanId is 0).</summary>
    public sealed class LinkPlan
    {
        public long PlanId { get; set; }
        public string? Name { get; set; }
        public long DeviceId { get; set; }
        public string Device { get; set; } = "";
        /// <summary>The path the plan is limited to, relative to the filesystem's root ("" for the whole device).</summary>
        public string Scope { get; set; } = "";
        public long MinimumSize { get; set; }
        /// <summary>HardLink (paths become links of the canonical file) or Clone (duplicates share the canonical file's blocks).</summary>
        public LinkMethod Method { get; set; }
        /// <summary>preview, pending, running, incomplete (stopped part-way), done, partial (done with skips or failures), undone (every linked path undone) or partially-undone.</summary>
        public string Status { get; set; } = "pending";
        /// <summary>Duplicate inodes to replace by links.</summary>
        public int ActionCount { get; set; }
        /// <summary>Paths that will become links.</summary>
        public int PathCount { get; set; }
        public long BytesPlanned { get; set; }
        public long BytesReclaimed { get; set; }
        public int Linked { get; set; }
        public int Skipped { get; set; }
        public int Failed { get; set; }
        public int Pending { get; set; }
        /// <summary>Linked paths given their own copy back by Undo-HashallLinkPlan.</summary>
        public int Undone { get; set; }
        public DateTime? UndoneAt { get; set; }
        /// <summary>Files in scope known only by a quick (sample) hash, left out: a plan never rests on a sample.</summary>
        public long LeftOut { get; set; }
        public DateTime CreatedAt { get; set; }
        public DateTime? ExecutedAt { get; set; }
        /// <summary>The actions, when asked for (Get-HashallLinkPlan -Action, New-HashallLinkPlan).</summary>
        public IList<LinkAction> Actions { get; set; } = new List<LinkAction>();
        public string Database { get; set; } = "";
    }

    /// <summary>One duplicate inode of a plan: every catalogued path of it becomes a hard link of the canonical file.</summary>
    public sealed class LinkAction
    {
        public long ActionId { get; set; }
        /// <summary>The plan it belongs to (not named PlanId, so piped actions never bind to Invoke-HashallLinkPlan -Id and run a whole plan).</summary>
        public long LinkPlanId { get; set; }
        /// <summary>The plan's method: HardLink or Clone.</summary>
        public LinkMethod Method { get; set; }
        public string Sha1 { get; set; } = "";
        public long Size { get; set; }
        public long CanonicalFileId { get; set; }
        /// <summary>Canonical path relative to the filesystem's root.</summary>
        public string CanonicalPath { get; set; } = "";
        public string Canonical { get; set; } = "";
        public long CanonicalInode { get; set; }
        public long CanonicalMtimeNs { get; set; }
        public long DuplicateInode { get; set; }
        public long DuplicateMtimeNs { get; set; }
        public IList<LinkActionPath> Paths { get; set; } = new List<LinkActionPath>();
        /// <summary>Bytes freed when every path is linked: the size, or 0 when the inode has links the catalog does not know.</summary>
        public long BytesSaved { get; set; }
        public long BytesReclaimed { get; set; }
        /// <summary>pending, linked, skipped or failed.</summary>
        public string Status { get; set; } = "pending";
        public string? Reason { get; set; }
        public string Database { get; set; } = "";
    }

    /// <summary>One path of a duplicate inode, and what became of it.</summary>
    public sealed class LinkActionPath
    {
        public long FileId { get; set; }
        public string Path { get; set; } = "";
        public string FullName { get; set; } = "";
        public string Status { get; set; } = "pending";
        public string? Reason { get; set; }
        /// <summary>Undo-HashallLinkPlan's outcome: null (not undone), undone, skipped or failed.</summary>
        public string? UndoStatus { get; set; }
        public string? UndoReason { get; set; }
        /// <summary>The path's owner, group, permissions and mtime just before it was linked (null: linked by an older version).</summary>
        public uint? OriginalUid { get; set; }
        public uint? OriginalGid { get; set; }
        public int? OriginalMode { get; set; }
        public long? OriginalMtimeNs { get; set; }

        public override string ToString() => FullName;
    }

    /// <summary>What one Invoke-HashallLinkPlan run did to one plan.</summary>
    public sealed class LinkResult
    {
        public long PlanId { get; set; }
        public string? Name { get; set; }
        public LinkMethod Method { get; set; }
        /// <summary>Paths replaced by hard links, or (Clone) paths whose blocks are now the canonical file's (or found so on a resumed run).</summary>
        public int Linked { get; set; }
        public int Skipped { get; set; }
        public int Failed { get; set; }
        /// <summary>Hard links: the sizes of the inodes whose last link went. Clone: what FIEMAP shows freed (the duplicate's unshared bytes before less after).</summary>
        public long BytesReclaimed { get; set; }
        /// <summary>"path: reason" for every skipped or failed path.</summary>
        public IList<string> Reasons { get; } = new List<string>();
        /// <summary>False when stopped (Ctrl+C) or when -WhatIf or -Confirm left actions out; running the plan again resumes.</summary>
        public bool Completed { get; set; }
        /// <summary>True when -Limit or -MaximumBytes stopped the run: the plan stays incomplete, the next run continues.</summary>
        public bool Limited { get; set; }
        public TimeSpan Duration { get; set; }
        public string Database { get; set; } = "";
    }
}
