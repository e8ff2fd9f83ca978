using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
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
                var (path, _) = CatalogLocation.Resolve(fakeBoundParameters["Database"] as string);
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
    }
}
