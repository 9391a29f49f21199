"""PyTorch reference for bench/backends.ts: nnU-Net's PlainConvUNet (conv-InstanceNorm-LeakyReLU blocks,
strided-conv downsampling, transposed-conv upsampling, skip concat, deep-supervision 1x1 heads), the same
loss and optimizer as the tfjs bench; prints one JSON line with the timings. Not used by tests or CI.
usage: python3 bench/torch_unet.py '{"features":[32,64,128,256,320],"strides":[[1,1,1],[2,2,2],...],
        "patch":[64,64,64],"batch":2,"in":1,"classes":3,"steps":3,"tiles":27,"threads":2}'"""
import json, sys, time
import torch
from torch import nn

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg.get('threads', 2))
torch.manual_seed(0)


def block(cin, cout, stride):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, stride, 1, bias=True), nn.InstanceNorm3d(cout, eps=1e-5, affine=True),
                         nn.LeakyReLU(0.01, inplace=True))


class PlainConvUNet(nn.Module):
    def __init__(self, cin, feats, strides, classes):
        super().__init__()
        self.enc = nn.ModuleList()
        c = cin
        for f, s in zip(feats, strides):
            self.enc.append(nn.Sequential(block(c, f, s), block(f, f, 1)))
            c = f
        self.up, self.dec, self.seg = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i in range(len(feats) - 1, 0, -1):
            self.up.append(nn.ConvTranspose3d(feats[i], feats[i - 1], strides[i], strides[i], bias=True))
            self.dec.append(nn.Sequential(block(2 * feats[i - 1], feats[i - 1], 1), block(feats[i - 1], feats[i - 1], 1)))
            self.seg.append(nn.Conv3d(feats[i - 1], classes, 1, 1, 0, bias=True))

    def forward(self, x, ds=True):
        skips = []
        for e in self.enc:
            x = e(x)
            skips.append(x)
        outs = []
        h = skips[-1]
        for i in range(len(self.up)):
            h = self.dec[i](torch.cat([self.up[i](h), skips[-(i + 2)]], 1))
            if ds or i == len(self.up) - 1:
                outs.append(self.seg[i](h))
        return outs[::-1]


net = PlainConvUNet(cfg['in'], cfg['features'], cfg['strides'], cfg['classes'])
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
x = torch.randn(cfg['batch'], cfg['in'], *cfg['patch'])
res = {'torch': torch.__version__, 'threads': torch.get_num_threads()}


def step():
    opt.zero_grad(set_to_none=True)
    outs = net(x)
    loss = sum(torch.mean(o * o) for o in outs)
    loss.backward()
    opt.step()


step()
times = []
for _ in range(cfg.get('steps', 3)):
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
res['train_step_s'] = min(times)
res['train_step_all_s'] = times
if cfg.get('tiles', 0) > 0:
    net.eval()
    xt = torch.randn(1, cfg['in'], *cfg['patch'])
    with torch.no_grad():
        net(xt, False)
        t = time.perf_counter()
        for _ in range(cfg['tiles']):
            net(xt, False)
        res['sliding_s'] = time.perf_counter() - t
print(json.dumps(res))
