using System;
using System.Management.Automation;
using System.Threading;
using Hashall.Core;
using Hashall.Core.Catalog;

namespace Hashall.PowerShell
{
    /// <summary>What every Hashall cmdlet shares: the -Database parameter, opening the catalog, error records.</summary>
    public abstract class HashallCmdlet : PSCmdlet, IDisposable
    {
        private CatalogDatabase? _catalog;
        private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

        /// <summary>The catalog file. Default: $env:HASHALL_DB, else ~/.hashall/catalog.db.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string? Database { get; set; }

        /// <summary>The open catalog (opened on first use, for the whole pipeline run).</summary>
        protected CatalogDatabase Catalog
        {
            get
            {
                var (path, createDirectory) = CatalogLocation.Resolve(Database, ResolvePath);
                // -Database binds per pipeline object: objects from another catalog use that catalog.
                if (_catalog != null && !string.Equals(_catalog.Path, System.IO.Path.GetFullPath(path), StringComparison.Ordinal))
                    DisposeCatalog();
                if (_catalog == null)
                {
                    WriteVerbose($"Opening catalog '{path}'.");
                    // -WhatIf must not create the catalog: an empty one in memory answers instead.
                    _catalog = !ReadsOnly && WhatIfActive && CatalogDatabase.Examine(path) != CatalogDatabase.CatalogFileState.Present
                        ? CatalogDatabase.OpenEmptyStandIn(path)
                        : CatalogDatabase.Open(path, createDirectory, mayCreate: !ReadsOnly);
                }
                return _catalog;
            }
        }

        /// <summary>
        /// True for the cmdlets that only read (verbs Get and Find): they never create a catalog, a missing one is
        /// CatalogNotFound. The rest (scan, Set-, New-, Invoke-, Sync-) create it on first use.
        /// </summary>
        protected bool ReadsOnly =>
            ((CmdletAttribute?)Attribute.GetCustomAttribute(GetType(), typeof(CmdletAttribute)))?.VerbName is VerbsCommon.Get or VerbsCommon.Find;

        /// <summary>True under -WhatIf (given, or through $WhatIfPreference).</summary>
        protected bool WhatIfActive =>
            (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var given) && given is SwitchParameter s && s.IsPresent)
            || LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference", false));

        /// <summary>The catalog's path, without opening (or creating) it: for -WhatIf messages.</summary>
        /// <remarks>A name that cannot be a catalog (blank, special, a device or FIFO) is refused here too, so -WhatIf says so.</remarks>
        protected string CatalogPath
        {
            get
            {
                if (_catalog != null)
                    return _catalog.Path;
                string path = CatalogLocation.FullPath(CatalogLocation.Resolve(Database, ResolvePath).Path);
                CatalogDatabase.Examine(path);
                return path;
            }
        }

        /// <summary>Cancelled when the user presses Ctrl+C (StopProcessing).</summary>
        protected CancellationToken StopToken => _stopping.Token;

        /// <summary>Resolves a user-typed path against the current PowerShell location.</summary>
        protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        protected override void ProcessRecord()
        {
            try
            {
                Process();
            }
            catch (HashallException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e));
            }
        }

        protected override void EndProcessing()
        {
            try
            {
                End();
            }
            catch (HashallException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e));
            }
            finally
            {
                DisposeCatalog();
            }
        }

        // The pipeline thread may be inside the catalog: signal it, and let it close the catalog itself.
        protected override void StopProcessing() => _stopping.Cancel();

        public void Dispose()
        {
            Release();
            DisposeCatalog();
            _stopping.Dispose();
        }

        /// <summary>Frees what a cmdlet holds for the whole pipeline (PowerShell disposes the cmdlet after it, also after an error).</summary>
        protected virtual void Release() { }

        /// <summary>The cmdlet's per-input work; engine errors become terminating error records.</summary>
        protected abstract void Process();

        protected virtual void End() { }

        /// <summary>A per-item problem: reported, and the run goes on.</summary>
        protected void WriteHashallError(HashallException e) => WriteError(ErrorRecords.From(e));

        private void DisposeCatalog()
        {
            _catalog?.Dispose();
            _catalog = null;
        }
    }
}
