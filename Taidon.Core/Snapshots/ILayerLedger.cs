namespace Taidon.Core.Snapshots;

/// <summary>The control plane's accounts of the snapshot layers: what each saves and how much it is used (the port).</summary>
public interface ILayerLedger
{
    Task<IReadOnlyDictionary<string, LayerUse>> AllAsync(CancellationToken cancellationToken);

    /// <summary>The keys of the layers restored most, most first.</summary>
    Task<IReadOnlyList<string>> MostRestoredAsync(int take, CancellationToken cancellationToken);

    /// <summary>Forgets the accounts of layers that are gone.</summary>
    Task ForgetAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
}
