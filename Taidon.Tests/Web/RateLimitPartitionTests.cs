using System.Net;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Taidon.Web.Features.Gateway;

namespace Taidon.Tests.Web;

/// <summary>Which budget a request draws on: the per-address limits key a client the way it can be told apart.</summary>
public sealed class RateLimitPartitionTests
{
    [Theory]
    [InlineData("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("203.0.113.7", "203.0.113.7")]
    public void AnIpv6AddressCountsByItsSlash64AndAMappedIpv4AddressAsIpv4(string address, string key) =>
        Assert.Equal(key, RateLimiting.AddressKey(IPAddress.Parse(address)));

    [Theory]
    [InlineData("POST", "/Account/Login")]
    [InlineData("POST", "/Account/Register")]
    [InlineData("POST", "/api/v1/anonymous")]
    [InlineData("GET", "/api/v1/me")]
    [InlineData("POST", "/account/guest")]
    public void EveryPerAddressLimitPutsAddressesOfOneSlash64InOneBudget(string method, string path)
    {
        var limits = new RateLimitOptions();
        var first = RateLimiting.Partition(Request(method, path, "2001:db8:1:2::1"), limits).PartitionKey;
        var sameNetwork = RateLimiting.Partition(Request(method, path, "2001:db8:1:2:9999:8888:7777:6666"), limits).PartitionKey;
        var otherNetwork = RateLimiting.Partition(Request(method, path, "2001:db8:1:3::1"), limits).PartitionKey;

        Assert.Equal(first, sameNetwork);
        Assert.NotEqual(first, otherNetwork);
    }

    [Fact]
    public void NewGuestsFromAllAddressesShareTheInstallationsBudgetAndNothingElseDraws()
    {
        var limits = new RateLimitOptions();
        var one = RateLimiting.InstallationPartition(Request("POST", "/api/v1/anonymous", "198.51.100.1"), limits).PartitionKey;
        var other = RateLimiting.InstallationPartition(Request("POST", "/account/guest", "2001:db8:9::1"), limits).PartitionKey;

        Assert.Equal(one, other);
        // A page view makes no account, so it draws on no visitors' budget.
        Assert.Equal("unlimited", RateLimiting.InstallationPartition(Request("GET", "/", "198.51.100.1"), limits).PartitionKey);
        Assert.Equal("unlimited", RateLimiting.InstallationPartition(Request("GET", "/api/v1/me", "198.51.100.1"), limits).PartitionKey);
        Assert.Equal("unlimited", RateLimiting.InstallationPartition(Request("POST", "/Account/Login", "198.51.100.1"), limits).PartitionKey);
    }

    private static DefaultHttpContext Request(string method, string path, string address)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        if (path == "/")
        {
            // A page of the app, as routing marks it.
            context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new ComponentTypeMetadata(typeof(object))), "page"));
        }

        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        return context;
    }
}
