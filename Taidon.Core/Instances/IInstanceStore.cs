namespace Taidon.Core.Instances;

/// <summary>An instance as the admin pages list it, with its owner.</summary>
public sealed record AdminInstance(
    Guid Id, string? OwnerId, string? OwnerName, bool OwnerAnonymous, InstanceState State, string? StateKey,
    DateTimeOffset CreatedAt, DateTimeOffset LastActivityAt, DateTimeOffset ExpiresAt);

/// <summary>Which instances: an owner's name or id containing the text, a state; sorted by a column (activity, created, expiry, owner).</summary>
public sealed record AdminInstanceFilter(string? Owner = null, InstanceState? State = null, string Sort = "activity", bool Descending = true);

/// <summary>Where the control plane keeps its instances (the port; the control-plane database implements it).</summary>
public interface IInstanceStore
{
    Task<IReadOnlyList<Instance>> OfOwnerAsync(string ownerId, CancellationToken cancellationToken);

    Task<Instance?> FindAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Every instance of the installation (the warm pool's included).</summary>
    Task<IReadOnlyList<Instance>> AllAsync(CancellationToken cancellationToken);

    /// <summary>How many instances there are: of one owner, or of the whole installation when <paramref name="ownerId"/> is null.</summary>
    Task<int> CountAsync(string? ownerId, CancellationToken cancellationToken);

    /// <summary>How many students' instances were made or claimed from the pool since <paramref name="since"/> (a claim makes an instance new to its student).</summary>
    Task<int> CountOwnedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<InstanceState, int>> CountByStateAsync(CancellationToken cancellationToken);

    Task AddAsync(Instance instance, CancellationToken cancellationToken);

    /// <summary>Saves what changed of the instance.</summary>
    Task UpdateAsync(Instance instance, CancellationToken cancellationToken);

    Task UpdateAsync(IReadOnlyCollection<Instance> instances, CancellationToken cancellationToken);

    Task RemoveAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>
    /// Hands the oldest pooled instance to <paramref name="ownerId"/> (running, new times), or null when
    /// the pool is empty. Two replicas never hand out the same one.
    /// </summary>
    Task<Instance?> ClaimPooledAsync(string ownerId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a pooled instance to another state while no claim can take it: runs <paramref name="move"/>,
    /// then records <paramref name="stateKey"/>. False (and nothing runs) when it was claimed meanwhile.
    /// </summary>
    Task<bool> MoveWhileUnclaimedAsync(Guid id, string stateKey, Func<CancellationToken, Task> move, CancellationToken cancellationToken);

    /// <summary>Instances for the admin pages, with their owners, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<AdminInstance>> ListForAdminAsync(AdminInstanceFilter filter, int max, CancellationToken cancellationToken);
}
