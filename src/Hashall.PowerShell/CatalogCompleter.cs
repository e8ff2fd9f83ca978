using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Hashall.Core;
using Hashall.Core.Catalog;

namespace Hashall.PowerShell
{
    /// <summary>
    /// An argument completer that reads the catalog -Database names (else the default one), read-only:
    /// completing a name never creates, migrates or writes a catalog. An unreadable one (or one of
    /// another schema version) offers nothing; the command itself will say why.
    /// </summary>
    public abstract class CatalogCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            try
            {
                var (path, _) = CatalogLocation.Resolve(fakeBoundParameters["Database"] as string, ShellPath);
                // Only a catalog file with content: nothing is created, and a FIFO or device is never opened.
                if (CatalogDatabase.Examine(path) != CatalogDatabase.CatalogFileState.Present)
                    return Enumerable.Empty<CompletionResult>();
                using var db = CatalogDatabase.OpenReader(path);
                if (db.SchemaVersion != Migrations.Latest)
                    return Enumerable.Empty<CompletionResult>();
                return Complete(db, wordToComplete.Trim('\'', '"')).ToList();
            }
            catch (HashallException)
            {
                return Enumerable.Empty<CompletionResult>();
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
                return Enumerable.Empty<CompletionResult>();
            }
        }

        protected abstract IEnumerable<CompletionResult> Complete(CatalogDatabase db, string word);

        /// <summary>
        /// A typed path as the cmdlet will resolve it: against the shell's current location (which is not
        /// the process's directory) with ~ expanded, through the session completing it.
        /// </summary>
        private static string ShellPath(string path)
        {
            if (Runspace.DefaultRunspace == null)
                return path;
            try
            {
                // Completers run on the session's pipeline thread: a nested pipeline there sees its location.
                using var shell = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
                var resolved = shell.AddScript("$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[0])")
                    .AddArgument(path).Invoke();
                return resolved.Count == 1 && resolved[0]?.BaseObject is string full ? full : path;
            }
            catch (Exception e) when (e is RuntimeException || e is InvalidOperationException)
            {
                return path; // the cmdlet itself will say what is wrong with it
            }
        }
    }
}
