using System;

namespace Hashall.Core
{
    /// <summary>What kind of failure an error is; the PowerShell layer maps it to an ErrorCategory.</summary>
    public enum HashallErrorKind
    {
        InvalidArgument,
        NotFound,
        InvalidData,
        PermissionDenied,
        ResourceUnavailable,
        ResourceBusy,
        NotSupported,
        WriteError,
        ReadError,
    }

    /// <summary>
    /// An engine failure with a stable, PascalCase error id and the thing at fault (a path, an alias),
    /// so that a cmdlet can turn it into an ErrorRecord without parsing messages.
    /// </summary>
    public class HashallException : Exception
    {
        public HashallException(string errorId, HashallErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
        }

        public string ErrorId { get; }
        public HashallErrorKind Kind { get; }
        public object? Target { get; }
    }
}
