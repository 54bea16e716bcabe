"""Known mistakes in ``sgd_momentum_step`` and independent correct rewrites."""

import torch

from rlgrade.testing import misconception, rewrite


@misconception("sgd_momentum_step", "steps with the old velocity: p - lr v, then updates v")
def steps_with_old_velocity(param, grad, velocity, lr, momentum):
    new_param = param - lr * velocity
    return new_param, momentum * velocity + grad


@misconception("sgd_momentum_step", "puts lr inside the velocity (v' = mu v + lr g, p' = p - v'): another convention")
def lr_inside_velocity(param, grad, velocity, lr, momentum):
    new_velocity = momentum * velocity + lr * grad
    return param - new_velocity, new_velocity


@misconception("sgd_momentum_step", "dampens the gradient: v' = mu v + (1 - mu) g (an EMA, not PyTorch's momentum)")
def dampened(param, grad, velocity, lr, momentum):
    new_velocity = momentum * velocity + (1 - momentum) * grad
    return param - lr * new_velocity, new_velocity


@misconception("sgd_momentum_step", "takes a Nesterov step p - lr (g + mu v')")
def nesterov(param, grad, velocity, lr, momentum):
    new_velocity = momentum * velocity + grad
    return param - lr * (grad + momentum * new_velocity), new_velocity


@misconception("sgd_momentum_step", "updates velocity and param in place (velocity.mul_().add_(), param.sub_())")
def in_place(param, grad, velocity, lr, momentum):
    velocity.mul_(momentum).add_(grad)
    param.sub_(lr * velocity)
    return param, velocity


@misconception("sgd_momentum_step", "returns (new_velocity, new_param), the wrong order")
def swapped_outputs(param, grad, velocity, lr, momentum):
    new_velocity = momentum * velocity + grad
    return new_velocity, param - lr * new_velocity


@rewrite("sgd_momentum_step", "expands p' = p - lr mu v - lr g and builds v' with torch.add(grad, velocity, alpha=mu)")
def expanded(param, grad, velocity, lr, momentum):
    new_param = param - (lr * momentum) * velocity - lr * grad
    return new_param, torch.add(grad, velocity, alpha=momentum)


@rewrite("sgd_momentum_step", "clones the inputs first and then updates the clones in place, optimizer-style")
def clone_then_in_place(param, grad, velocity, lr, momentum):
    p, v = param.clone(), velocity.clone()
    v.mul_(momentum).add_(grad)
    p.add_(v, alpha=-lr)
    return p, v
