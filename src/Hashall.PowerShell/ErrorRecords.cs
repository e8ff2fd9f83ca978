using System.Management.Automation;
using Hashall.Core;

namespace Hashall.PowerShell
{
    /// <summary>Engine errors to ErrorRecords: the engine's stable id, a category, the thing at fault.</summary>
    internal static class ErrorRecords
    {
        public static ErrorRecord From(HashallException e) => new ErrorRecord(e, e.ErrorId, Category(e.Kind), e.Target);

        public static ErrorCategory Category(HashallErrorKind kind)
        {
            switch (kind)
            {
                case HashallErrorKind.InvalidArgument: return ErrorCategory.InvalidArgument;
                case HashallErrorKind.NotFound: return ErrorCategory.ObjectNotFound;
                case HashallErrorKind.InvalidData: return ErrorCategory.InvalidData;
                case HashallErrorKind.PermissionDenied: return ErrorCategory.PermissionDenied;
                case HashallErrorKind.ResourceUnavailable: return ErrorCategory.ResourceUnavailable;
                case HashallErrorKind.ResourceBusy: return ErrorCategory.ResourceBusy;
                case HashallErrorKind.NotSupported: return ErrorCategory.InvalidOperation;
                case HashallErrorKind.WriteError: return ErrorCategory.WriteError;
                case HashallErrorKind.ReadError: return ErrorCategory.ReadError;
                default: return ErrorCategory.NotSpecified;
            }
        }
    }
}
