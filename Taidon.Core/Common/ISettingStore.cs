namespace Taidon.Core.Common;

/// <summary>Settings an admin changed in the pages, over the configuration's defaults (the port).</summary>
public interface ISettingStore
{
    Task<string?> GetAsync(string key, CancellationToken cancellationToken);

    Task SetAsync(string key, string value, CancellationToken cancellationToken);
}
